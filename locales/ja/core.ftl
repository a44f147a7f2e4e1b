### Meterdeck engine (core) and desktop app: Japanese.

## The tray icon's menu
tray-show = ウィンドウを表示
# After "Meterdeck: " in the tooltip and the menu's status line.
tray-none = 計測器が設定されていません
tray-quit = 終了

## Alarm notifications (desktop, mail, webhook, the notification centre)
notify-alarm-raise = アラーム: { $name }
notify-alarm-return = 正常に復帰: { $name }
notify-alarm-reminder = リマインダー（未確認）: { $name }
notify-alarm-body = { $name }（{ $severity }）
notify-delivery-failed = `{ $destination }` への通知に失敗しました
notify-sync-traffic-title = クラウド同期の通信量
notify-test-title = Meterdeck テスト通知
notify-test-body = Meterdeck から通知先「{ $name }」へのテストです。これが読めれば正常に動作しています。
notify-view-link = 表示（30 分間有効）: { $url }

## Summaries of a burst of notifications
notify-summary-alarm = アラーム { $n } 件
notify-summary-alarms = アラーム { $n } 件
notify-summary-notification = 通知 { $n } 件
notify-summary-notifications = 通知 { $n } 件
notify-summary-more-alarm = さらにアラーム { $n } 件
notify-summary-more-alarms = さらにアラーム { $n } 件
notify-summary-more-notification = さらに通知 { $n } 件
notify-summary-more-notifications = さらに通知 { $n } 件
notify-summary-and-more = …ほか { $n } 件

## Facts under a mail's or webhook's text
notify-fact-severity = 重大度
notify-fact-alarm = アラーム
notify-fact-time = 時刻

## Errors that reach the window (English must read as the code's own text)
err-unknown-instrument = 計測器 `{ $id }` は設定されていません
err-unknown-channel = ID { $id } のチャンネルは保存されていません
err-console-held = { $operator } が { $since } から使用中です
err-write = { $path } に書き込めません: { $reason }
err-simulator = シミュレーターを起動できません: { $reason }
err-agent-unknown-instrument = 計測器 `{ $id }` は不明か無効です
err-agent-not-connected = 計測器 `{ $id }` は接続されていません
err-agent-instrument = 計測器 `{ $id }`: { $reason }
err-agent-stopped = エージェントは停止しています
err-alarm-unknown = 不明なアラーム { $id }
err-alarm-not-unacked = アラーム { $id } は未確認ではありません (状態 { $state })
err-alarm-not-shelved = アラーム { $id } は保留されていません
err-alarm-shelve-past = アラーム { $id }: 保留期限 { $until } が現在 ({ $now }) より後ではありません
err-alarm-out-of-service = アラーム { $id } はすでに休止中です
err-alarm-in-service = アラーム { $id } はすでに運用中です
err-alarm-no-user = { $action } にはユーザー名が必要です
err-no-notification = ID `{ $id }` の通知はありません
err-cloud-not-signed-in = クラウドアカウントにサインインしていません。先にサインインしてください
err-cloud-signed-out = サインアウトしました。もう一度サインインしてください
err-cloud-unreachable = { $url } のクラウドサービスに接続できません: { $reason }
err-cloud-server = クラウドサービスでエラーが発生しました（HTTP { $status }）: { $message }

# Desktop service refusals: the errors of the desktop service, the
# instrument configuration, reports, dashboards, export and licences that
# reach the window. English reads exactly as the code's Display text.

## Desktop service refusals (the window shows them where the user acted)
err-desk-create = { $path } を作成できません: { $reason }
err-desk-read = { $path } を読み込めません: { $reason }
err-desk-demo-history = デモ履歴の書き込み: { $reason }
err-desk-unexpected-reply = 予期しない応答 { $reply }
err-desk-no-alarm-rule = アラームルール `{ $id }` はありません
err-desk-no-calc = 計算チャンネル `{ $id }` はありません
err-desk-no-destination = 通知先 `{ $id }` はありません
err-empty-range = 空の期間です: 開始 { $from } が終了 { $to } より前ではありません
err-desk-too-many-shown = 同時に表示できるチャンネルは最大 { $max } 個です ({ $n } 個選択されています)
err-desk-plot-width = グラフの幅は 1..{ $max } ピクセルにしてください (指定値 { $got })
err-desk-too-many-listed = 同時に一覧表示できるチャンネルは最大 { $max } 個です
err-desk-row-limit = 行数の上限は 1..{ $max } にしてください (指定値 { $got })
err-desk-no-licence-key = ライセンスキーが登録されていません。先にクラウドサービスにサインインしてください
err-desk-report-not-generated = レポートは生成されませんでした
err-desk-report-vanished = レポート実行 { $run } が見つからなくなりました
err-desk-no-report-run = レポート実行 { $run } はありません
err-desk-report-no-pdf = レポート実行 { $run } には PDF がありません (失敗したか、ファイルが削除されました)
err-desk-pdf-path = 保存先 `{ $path }` は絶対パスで、.pdf で終わる必要があります
err-desk-no-folder = フォルダー { $path } は存在しません
err-desk-no-operator = コンソールを使う前にオペレーター名を入力してください
err-desk-unknown-control = 不明な制御コマンド `{ $name }` です (start、stop、restart、set-clock のいずれか)
err-desk-control-held = { $action } は拒否されました: `{ $instrument }` のコンソールは { $since } から { $holder } が使用中です。そのオペレーター名を入力するか、先にコンソールを解放してください
err-action-start = 測定開始
err-action-stop = 測定停止
err-action-restart = 測定再開始
err-action-set-clock = 時計合わせ
err-action-read-settings = 設定の読み出し
err-action-push-profile = プロファイルの書き込み
err-desk-no-settings = `{ $instrument }` には保存する設定がありません (計測器に `settings = [...]` を追加してください)
err-desk-in-file = { $path }: { $reason }
err-desk-no-image-path = 画像ファイル (PNG、JPEG、GIF、WebP、SVG) を入力してください
err-desk-image-path-absolute = 画像のパス `{ $path }` は絶対パスにしてください (例: /home/me/plant.png)
err-desk-no-board-file-export = エクスポート先のファイル (.json で終わる) を入力してください
err-desk-no-board-file-import = インポートするファイル (.json で終わる) を入力してください
err-desk-board-path-absolute = パス `{ $path }` は絶対パスにしてください (例: /home/me/board.json)
err-desk-board-path-json = パス `{ $path }` は .json で終わる必要があります
err-desk-no-files-section = 計測器 `{ $instrument }` には [[files]] セクションがないため、ファイルを提供しません
err-desk-no-upload-cloud = アップロード先のクラウドがありません: 設定に `api` を含む [cloud] セクションと、キーチェーン内のエージェントのシークレットが必要です (meterdeck-agent cloud login)
err-desk-no-local-file = ID { $id } のローカルファイルはありません
err-desk-settings-json = 設定: { $reason }
err-desk-identify-disabled = 計測器 `{ $id }` は無効です。識別するには有効にしてください
err-desk-disabled = 計測器 `{ $id }` は無効です。先に有効にしてください
err-desk-hosts = ホスト `{ $hosts }`: { $reason }
err-desk-sweep-timeout = タイムアウトは 1..60000 ms にしてください (指定値 { $got })
err-desk-port-zero = ポート 0 は検索できません。1..65535 を使ってください
err-desk-baud = ボーレートは 0 より大きくしてください
err-desk-no-serial-port = 調べるシリアルポートを 1 つ以上選んでください
err-desk-ble-seconds = BLE スキャンの時間は 1..120 秒です (指定値 { $got })
err-desk-no-export-path = エクスポート先のファイル (.csv または .zip で終わる) を入力してください
err-desk-export-absolute = エクスポート先 `{ $path }` は絶対パスにしてください (例: /home/me/data.zip)
err-desk-export-ext = エクスポート先 `{ $path }` は .csv または .zip で終わる必要があります
err-desk-event-limit = イベント数の上限は 1..{ $max } にしてください (指定値 { $got })
err-desk-event-kind = 不明なイベント種別 `{ $kind }` です (connected、disconnected、error、agent-started、agent-stopped、retention のいずれか)
err-desk-no-command = 送信するコマンドを入力してください
err-desk-internal = 内部エラー: { $reason }
err-desk-toml = { $what } を TOML として書き込めません: { $reason }
err-desk-toml-instruments = 計測器の一覧
err-desk-toml-calcs = 計算チャンネル
err-desk-toml-alarms = アラームルール
err-desk-toml-destinations = 通知先
err-desk-toml-files = ファイルソース
err-desk-toml-config = 設定を TOML として書き込めません: { $reason }
err-desk-duplicate-id = 計測器 `{ $id }`: `id` は別の計測器で使われています。別の ID を選んでください
err-desk-language = 言語は `en`、`ja`、`de` のいずれかにしてください (指定値 `{ $got }`)
err-desk-theme = テーマは `light` または `dark` にしてください (指定値 `{ $got }`)
err-desk-time-zone = タイムゾーン `{ $tz }` は IANA のタイムゾーン名ではありません (例: `Europe/Berlin`、`Asia/Tokyo`、`UTC`)

## Settings profiles of an instrument
err-profile-name = プロファイル名 { $name }: 英字、数字、`-`、`_`、`.` を 1-64 文字で使ってください
err-profile-not-found = 計測器 `{ $instrument }` にプロファイル `{ $name }` はありません (保存済み: { $known })
err-profile-file = プロファイルファイル { $path }: { $reason }。何も保存されませんでした
err-profile-damaged = `{ $instrument }` の保存済みプロファイルを読み込めません ({ $reason })

## Instrument configuration (device-drivers: InstrumentConfig::validate and the family checks)
err-config-empty-id = 計測器: `id` を空にすることはできません
err-config-empty-terminator = 計測器 `{ $id }`: `terminator` を空にすることはできません
err-config-baud = 計測器 `{ $id }`: `transport.baud` は 0 より大きくしてください
err-config-data-bits = 計測器 `{ $id }`: `transport.data_bits` は 5..8 にしてください (指定値 { $got })
err-config-stop-bits = 計測器 `{ $id }`: `transport.stop_bits` は 1 または 2 にしてください (指定値 { $got })
err-config-poll-interval = 計測器 `{ $id }`: `poll_interval` は 100ms から 1h の間にしてください (指定値 { $got })
err-config-timeout = 計測器 `{ $id }`: `transport.timeout` は 0 より大きくしてください
err-config-empty-channel-id = 計測器 `{ $id }`: `id` が空のチャンネルがあります
err-config-duplicate-channel = 計測器 `{ $id }`: チャンネル `{ $channel }` が 2 回指定されています
err-config-not-finite = 計測器 `{ $id }`: チャンネル `{ $channel }`: `scale` と `offset` は有限の数にしてください
err-config-setting = 計測器 `{ $id }`: `settings` の項目 `{ $key }`: { $problem }
err-config-family = 計測器 `{ $id }`: { $problem }
err-setting-key-empty = 空です
err-setting-key-register = 保持レジスタのアドレス 0..65535 にしてください
err-setting-key-header = `:SAMPle:RATE` のような設定ヘッダー 1 つにしてください (`?`、`;`、空白は使えません)
err-field-missing = `{ $key }` が必要です (ファミリー { $family })
err-field-type = `{ $key }` は{ $expected }にしてください
err-field-expected-text = テキスト
err-field-expected-number = 有限の数
err-field-range = `{ $key }` は { $min }..{ $max } にしてください (指定値 { $got })
err-field-choice = `{ $key }` は { $allowed } のいずれかにしてください (指定値 `{ $got }`)
err-field-transport = ファミリー { $family } は `transport.kind` { $got } では動作しません。{ $allowed } を使ってください
err-field-unused = `{ $key }` はファミリー { $family } では使われません
err-field-no-port = `transport.port` を指定してください: ファミリー { $family } には既定のポートがありません
err-field-channel = チャンネル `{ $channel }`: { $problem }
err-field-read-config = 設定を読み込めません: { $reason }
err-field-channel-timeout = `timeout` は 0 より大きく 1m 以下にしてください (指定値 { $got })
err-field-error-format-unused = `error_format` が指定されていますが、`error_query` は "none" (エラーキューなし) です
err-field-error-query-empty = `error_query` は ":SYSTem:ERRor?" のようなクエリか "none" にしてください (指定値 `{ $got }`)
err-field-error-query-line = `error_query` は 1 行に 1 つのクエリにしてください (指定値 `{ $got }`)
err-field-error-query-mark = `error_query` は `?` で終わるクエリ (または "none") にしてください (指定値 `{ $got }`)
err-field-line-empty = `{ $key }` を空にすることはできません (指定値 `{ $got }`)
err-field-line-multi = `{ $key }` は 1 行にしてください (指定値 `{ $got }`)
err-field-select-reply-alone = `select_reply` が指定されていますが、`select` がありません
err-field-select-serial = `select` は共有シリアル回線上の機器を指定するものです。シリアル接続が必要です
err-field-fixed-registers = チャンネル `{ $channel }`: `{ $key }` はファミリー sdm630 では使われません (レジスタマップは固定です)。省略してください
err-field-fixed-characteristics = チャンネル `{ $channel }`: `{ $key }` はファミリー ble-ess では使われません (キャラクタリスティックは固定です)。省略してください

## Network sweep host lists
err-hosts-empty = ホストが指定されていません (例: `192.168.1.1-254`、`192.168.1.0/24`)
err-hosts-too-many-all = `{ $hosts }` は { $max } 台を超えるホストを含みます。範囲を狭めてください
err-hosts-too-many = `{ $item }` は { $count } 台のホストを含みます。1 回の検索は最大 { $max } 台です
err-hosts-prefix = `{ $item }`: プレフィックス長は 0..32 にしてください
err-hosts-last-octet = `{ $item }`: `{ $end }` はアドレスでも最終オクテット 0..255 でもありません
err-hosts-backwards = `{ $item }`: 範囲の終わりが始まりより前です
err-hosts-not-address = `{ $item }` は IP アドレス、範囲、CIDR ブロックのいずれでもありません
err-hosts-not-v4 = `{ $item }`: `{ $text }` は IPv4 アドレスではありません

## Licence files and keys
err-licence-key = ライセンスキー: { $reason }
err-licence-key-prefix = ライセンスキーは `md-ed25519:` で始まります
err-licence-key-base64 = `md-ed25519:` の後のライセンスキーが base64 ではありません
err-licence-key-length = ライセンスキーは 32 バイトですが、このキーは { $n } バイトです
err-licence-key-point = ライセンスキーは有効な ed25519 公開鍵ではありません
err-licence-not-a-licence = これは Meterdeck のライセンスファイルではありません ({ $reason })。クラウドからライセンスを取得し直してください
err-licence-truncated = ライセンスファイルが途中で切れています。クラウドからライセンスを取得し直してください
err-licence-wrong-key = ライセンスはキー { $signed_by } で署名されていますが、このインストールが信頼しているのは { $trusted } (登録先のクラウド) です。そのクラウドからライセンスを取得するか、登録し直してください
err-licence-altered = ライセンスファイルが改変されています ({ $part } が一致しません)。クラウドからライセンスを取得し直してください
err-licence-unreadable = ライセンスは署名されていますが、このバージョンでは読み込めません ({ $reason })。Meterdeck を更新してください
err-licence-other-account = このライセンスはアカウント { $licence } のもので、{ $ours } のものではありません。このアカウントのライセンスを取得してください
err-licence-future = ライセンスの発行時刻 { $issued_at } ms がこのコンピューターの時計 ({ $now } ms) より後です。時計を確認してから、ライセンスを取得し直してください

## Plan limits
err-limit = { $plan } プランで使える{ $noun }は { $max } までです。{ $what }: { $lift } (`meterdeck-agent licence show` またはライセンス画面を参照)
err-limit-noun-instruments = エージェントあたりの計測器
err-limit-noun-channels = 計測器あたりのチャンネル
err-limit-noun-alarms = エージェントあたりのアラームルール
err-limit-noun-calcs = エージェントあたりの計算チャンネル
err-limit-noun-panels = エージェントあたりのダッシュボードパネル
err-limit-instrument-has = 計測器 `{ $instrument }` は現在 { $count } で、この変更では { $wanted } になります
err-limit-agent-has = このエージェントは現在 { $count } で、この変更では { $wanted } になります
err-limit-lift-remote-pro = いくつか削除してください (Remote Pro が最大のゲートウェイプランです)
err-limit-lift-remote-card = いくつか削除するか、このゲートウェイに Remote Pro カードを適用してください
err-limit-lift-gateway = いくつか削除するか、このエージェントをゲートウェイとしてライセンスしてください (Remote プランカード)
err-limit-lift-pro = いくつか削除してください (Pro が最大のプランです)
err-limit-lift-standard = いくつか削除するか、アカウントを Pro プランに変更してください
err-limit-lift-free = いくつか削除するか、アカウントに Standard または Pro のライセンスカードを適用してください
err-limit-templates = { $plan } プランで使えるレポートテンプレートは { $max } 個までです。このエージェントには { $count } 個あり、新しく作ると { $next } 個になります: { $lift } (`meterdeck-agent licence show` またはライセンス画面を参照)
err-limit-templates-lift-pro = 1 つ削除してください (Pro が最大のプランです)
err-limit-templates-lift-standard = 1 つ削除するか、アカウントを Pro プランに変更してください
err-limit-templates-lift-free = アカウントに Standard または Pro のライセンスカードを適用してください

## Reports: templates, schedules, runs
err-report-field = { $field }: { $message }
err-report-unknown-template = { $name } という名前のレポートテンプレートはありません
err-report-template = テンプレート { $name }: { $reason }
err-report-create = { $path } を作成できません: { $reason }
err-report-template-invalid = レポートテンプレート: { $reason }
err-report-bad-range = 期間の開始は終了より前にしてください
err-report-unknown-channel = チャンネル { $channel } はストアにありません
err-report-logo = ロゴ { $path }: { $reason }
err-report-time-zone = タイムゾーン { $tz } は IANA のタイムゾーンではありません
err-report-journal = アラーム履歴の読み込み: { $reason }
err-report-render = レポートの描画: { $reason }
err-report-write = { $path } の書き込み: { $reason }
err-range-time-zone = タイムゾーン { $tz } は IANA のタイムゾーン名ではありません (例: Europe/Berlin、Asia/Tokyo)
err-range-empty = 固定期間の終了は開始より後にしてください (開始 { $from } ms、終了 { $to } ms)
err-range-out = { $t } ms はレポートで扱える日付の範囲外です
err-schedule-at = { $at } は現地時刻 HH:MM (00:00 から 23:59) ではありません
err-schedule-weekday = { $weekday } は曜日ではありません (mon、tue、wed、thu、fri、sat、sun)
err-schedule-day = { $day } は月の日付 (1 から 31) ではありません
err-schedule-date-range = 日付が範囲外です
err-schedule-no-due = 400 日以内に実行予定時刻がありません
err-saved-name-length = 1 から 100 文字で、前後に空白を入れないでください
err-saved-name-chars = `/` や制御文字を含めることはできません
err-saved-destination = 設定に通知先 `{ $name }` はありません (次のいずれか: { $known })
err-saved-name-taken = { $name } という名前のテンプレートはすでにあります
err-template-no-name = `name` が空です
err-template-no-channels = `channels` にチャンネルがありません
err-template-too-many-channels = `channels` に { $n } 個のチャンネルがあります (最大 { $max } 個)
err-template-channel-path = チャンネル { $channel } は `instrument/channel` 形式のパスではありません
err-template-group-empty = グラフグループ { $group } にチャンネルがありません
err-template-group-channel = グラフグループ { $group } の { $channel } は `channels` にありません
err-template-threshold-channel = しきい値の { $channel } は `channels` にありません
err-template-threshold-finite = { $channel } のしきい値は有限の数にしてください
err-template-time-zone = `time_zone` { $tz } は IANA のタイムゾーンではありません
err-template-fixed-range = 固定期間の `from` は `to` より前にしてください

## Data export
err-export-write = { $path } に書き込めません: { $reason }
err-export-no-channels = エクスポートするチャンネルがありません

## Dashboards: boards, panels, board files and images
err-board-no-name = ボード名を入力してください
err-board-name-length = ボード名は { $max } 文字までです
err-board-panel-size = { $what }: 幅と高さは 1 セル以上にしてください (指定値 { $w }x{ $h })
err-board-panel-off-grid = { $what }: 列 { $x }、行 { $y }、サイズ { $w }x{ $h } では { $cols }x{ $rows } のグリッドからはみ出します
err-board-panel-title = { $what }: タイトルは { $max } 文字までです
err-board-panel-no-channel = { $what }: チャンネルを 1 つ以上選んでください
err-board-panel-channels = { $what }: パネルに表示できるチャンネルは最大 { $max } 個です
err-board-image-no-channels = { $what }: 画像のみのパネルにはチャンネルを表示できません (image-values を使ってください)
err-board-choose-image = { $what }: 画像を選んでください
err-board-image-only = { $what }: 画像を持てるのは画像パネルだけです
err-board-image-name = { $what }: 画像 `{ $name }` はデータフォルダーの画像ファイル名ではありません
err-board-placements-kind = { $what }: 値を配置できるのは image-values パネルだけです
err-board-placement-channel = { $what }: 配置されたチャンネル `{ $channel }` はパネルのチャンネルではありません
err-board-placement-outside = { $what }: `{ $channel }` の配置 ({ $x }, { $y }) が画像の範囲 (0..1) の外です
err-board-rules-kind = { $what }: ルールを選べるのはアラーム一覧だけです
err-dashboard-unknown-board = ID { $id } のダッシュボードボードはありません
err-dashboard-unknown-panel = ボード { $board } にパネル { $panel } はありません
err-dashboard-channel-form = { $what }: チャンネル `{ $channel }` は instrument/channel の形式ではありません
err-dashboard-channel-unknown = { $what }: チャンネル `{ $channel }` はこのエージェントのチャンネルではありません
err-dashboard-channel-twice = { $what }: チャンネル `{ $channel }` が 2 回指定されています
err-dashboard-overlap = { $what } が { $other } と重なっています
err-dashboard-panel-id-twice = { $what }: パネル ID { $id } が 2 回使われています
err-dashboard-file = ダッシュボードファイル: { $problem }
err-dashboard-write-board = ボードを書き出せません: { $reason }
err-dashboard-what-image = 画像 `{ $name }`
err-dashboard-what-file = ファイル { $path }
err-dashboard-file-not-json = JSON ではありません ({ $reason })
err-dashboard-file-not-object = JSON オブジェクトではありません
err-dashboard-file-no-format = Meterdeck のダッシュボードではありません (`{ $key }` キーがありません)
err-dashboard-file-version = バージョン { $got } はこの Meterdeck では読み込めません (読み込めるのはバージョン { $version } です)
err-dashboard-file-field = `{ $field }`: { $reason }
err-dashboard-file-name = 名前: { $problem }
err-dashboard-file-image-missing = パネル { $panel }: 画像 `{ $name }` がファイルの `images` にありません
err-dashboard-file-image-base64 = 画像 `{ $name }` は base64 ではありません ({ $reason })
err-dashboard-not-image = { $what } は PNG、JPEG、GIF、WebP、SVG のいずれの画像でもありません
err-dashboard-image-size = { $what } は { $mb } MB です。受け付ける画像は { $max } MB までです
err-dashboard-create = { $path } を作成できません: { $reason }
err-dashboard-write = { $path } に書き込めません: { $reason }
err-dashboard-read-image = 画像 { $path } を読み込めません: { $reason }
err-dashboard-not-file = { $path } はファイルではありません
err-dashboard-image-too-large = 画像 { $path } は { $max } MB を超えています
err-dashboard-not-kept-image = `{ $name }` はダッシュボードの画像ではありません
err-dashboard-kept-not-image = データフォルダーの画像 `{ $name }` は画像ではありません
err-dashboard-board-damaged = ストア内のボード { $id } を読み込めません: { $reason }
err-dashboard-order = 新しい順序ではすべてのボードを 1 回ずつ指定してください: ボードは { $have }、指定された順序は { $ids } です

## The store (what SQLite or the OS said is quoted as it came)
err-store-open = ストア { $path } を開けません: { $reason }
err-store-create-dir = ストア { $path } のフォルダーを作成できません: { $reason }
err-store-database = ストア { $path }: { $op } に失敗しました: { $reason }
err-store-sqlite = データベースエラー: { $reason }
err-store-schema-too-new = ストア { $path } のスキーマバージョンは { $found } ですが、このビルドが扱えるのは { $supported } までです。新しい Meterdeck を使ってください
err-store-schema-mismatch = ストア { $path } のスキーマバージョンは { $found } ですが、{ $expected } が必要です。移行するには一度読み書きモードで開いてください (エージェントを起動)
err-store-part-too-new = ストア { $path } の { $part } テーブルはバージョン { $found } ですが、このビルドが扱えるのは { $supported } までです。新しい Meterdeck を使ってください

## Alarm actions and destinations (window forms)
err-desk-shelve-minutes = 保留は 1 ～ { $max } 分で指定してください ({ $minutes } は不可)
err-desk-no-secret = デスクトップ通知先には保存するパスワードや URL がありません
err-desk-journal-action = 不明なジャーナル操作 `{ $action }`
err-desk-enter-user = お名前を入力してください (1～100 文字)

## Instruments, ports and radios
err-device-action-failed = { $action } に失敗しました: { $reason }
err-device-no-identity = 計測器 `{ $id }`: { $family } の機器は識別情報の問い合わせに応答しません
err-device-no-idn = 計測器 `{ $id }` が `*IDN?` に応答しませんでした
err-device-idn-reply = 計測器 `{ $id }`: `*IDN?` の応答 { $reply }: { $reason }
err-device-serial-list = シリアルポートを一覧できません: { $reason }
err-device-ble-scan = Bluetooth LE スキャン: { $reason }
