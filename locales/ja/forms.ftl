# Refusals of the forms and of the configuration file: the instrument,
# calculation, alarm, destination, files and cloud sections. English reads
# exactly as the code's Display text (core and device-drivers tests check it).


## A calculation's expression (the column goes before it)
form-expr-column = { $column } 文字目: { $message }
form-expr-too-long = 式が { $max } 文字を超えています
form-expr-empty = 式が空です
form-expr-unmatched-paren = `)` に対応する `(` がありません
form-expr-expected-operator = `{ $before }` の後には演算子 (+ - * /) が必要ですが、`{ $found }` があります
form-expr-unexpected-char = 使えない文字 `{ $char }` があります
form-expr-unexpected-caret = 使えない文字 `{ $char }` があります（2 乗は SQ(x) と書きます）
form-expr-unexpected-comma = 使えない文字 `{ $char }` があります（小数点は `.` です）
form-expr-exponent = 数値 `{ $number }` が不正です: 指数には数字が必要です（例: `1e3`）
form-expr-number-then-name = `{ $number }{ $name }` は数値ではありません（掛け算は `{ $number } * { $name }` と書きます）
form-expr-malformed-number = 数値 `{ $number }` が不正です
form-expr-number-too-large = 数値 `{ $number }` が大きすぎます
form-expr-too-deep = 入れ子が深すぎます（括弧・関数・マイナス記号が { $max } 段を超えています）
form-expr-function-as-variable = `{ $name }` は関数です: `{ $name }(x)` と書いてください（変数名には使えません）
form-expr-unknown-function = 不明な関数 `{ $name }` です（使えるのは SQ(x) と SQR(x) です）
form-expr-expected-operand = 数値・変数・`(`・`-` のいずれかが必要ですが、`{ $found }` があります
form-expr-expected-operand-end = 数値・変数・`(`・`-` のいずれかが必要ですが、式が終わっています
form-expr-expected-operand-after = `{ $before }` の後には数値・変数・`(`・`-` のいずれかが必要ですが、`{ $found }` があります
form-expr-expected-operand-after-end = `{ $before }` の後には数値・変数・`(`・`-` のいずれかが必要ですが、式が終わっています
form-expr-expected-close = `{ $before }` の後に `)` が必要ですが、`{ $found }` があります
form-expr-expected-close-end = `{ $before }` の後に `)` が必要です

## [[calc]]: a calculation channel
form-calc-text-too-long = `{ $field }` が { $max } 文字を超えています
form-calc-text-control = `{ $field }` に制御文字（改行・タブ）は使えません
form-calc-tolerance = `tolerance` は 1h 以下にしてください（指定値: { $got }）
form-calc-no-inputs = 演算には入力が 1 つ以上必要です（例: `inputs = {"{"} A = "logger1/CH1_1" {"}"}`）
form-calc-too-many-inputs = 入力は { $max } 個までです（指定数: { $got }）
form-calc-bad-input-name = `{ $var }` は入力名に使えません: 英字・数字・`_` を使い、数字で始めず、SQ と SQR 以外にしてください
form-calc-input-not-path = 入力 `{ $var }`: チャネルのパス `instrument/channel` が必要です（指定値: { $path }）
form-calc-own-output = 入力 `{ $var }`: 演算は自身の出力 `{ $path }` を使えません
form-calc-not-an-input = `{ $name }` は入力 ({ $inputs }) のいずれでもありません
form-calc-unused-input = 入力 `{ $var }` が `expr` で使われていません。使うか削除してください
form-calc-duplicate-id = `id` `{ $id }` は別の演算で使われています
form-calc-unknown-calc = 入力 `{ $var }`: `{ $path }` に対応する演算 `{ $calc }` がありません
form-calc-loop = 演算が互いの出力を循環して使っています: { $loop }（それぞれが次の演算を使用）
form-calc-id-empty = `id` は空にできません
form-calc-id-too-long = `id` が { $max } 文字を超えています
form-calc-id-chars = `id` { $id } に使えるのは英字 A-Z a-z・数字・`_`・`-` だけです（{ $char } があります）

## Shared by the sections: a key and what a parser (serde, toml) said about it
form-key-says = `{ $key }`: { $reason }

## Sizes as people write them (disk quota, monthly allowance, storage alarms)
form-size-unreadable = サイズ { $text } を読み取れません（例: "2 GiB"、"500 MB"）
form-size-unknown-unit = { $text } のサイズ単位 { $unit } は不明です（B, KB, MB, GB, TB, KiB, MiB, GiB, TiB が使えます）
form-size-out-of-range = サイズ { $text } は範囲外です

## [[alarm]]: an alarm rule
form-alarm-window = 時間帯: { $message }
form-alarm-window-no-days = 曜日を 1 つ以上指定してください（または `days` を省略）
form-alarm-window-unknown-day = 不明な曜日 { $day } です（mon, tue, wed, thu, fri, sat, sun が使えます）
form-alarm-window-from = 時刻 HH:MM (00:00..23:59) が必要です（指定値: { $got }）
form-alarm-window-to = 時刻 HH:MM (00:00..24:00) が必要です（指定値: { $got }）
form-alarm-window-empty = `from` と `to` が同じため時間帯が空になります（終日なら 00:00 から 24:00 を指定）
form-alarm-window-tz = 不明なタイムゾーン { $name } です（"Europe/Berlin" のような IANA 名を指定）
form-alarm-id = `id` は A-Z a-z 0-9 _ - の 1～64 文字にしてください（指定値: { $got }）
form-alarm-name = `name` は 1～200 文字にしてください（または省略）
form-alarm-not-for-kind = `{ $key }` は kind = "{ $kind }" には使えません
form-alarm-threshold-no-channel = しきい値ルールには `channel`（"instrument/channel"）が必要です
form-alarm-channel-path = `{ $key }` は "instrument/channel" の形式にしてください（指定値: { $got }）
form-alarm-threshold-no-op = しきい値ルールには `op`（> >= <= < outside_incl outside_excl）が必要です
form-alarm-deadband = `deadband` は 0 以上の数値にしてください（指定値: { $got }）
form-alarm-deadband-too-wide = `deadband` { $deadband } では下限 { $low } と上限 { $high } の間に正常範囲が残りません（2 x deadband < high - low が必要）
form-alarm-second = 第2条件: { $message }
form-alarm-instrument = `instrument` は計測器 ID にしてください（指定値: { $got }）
form-alarm-pattern = `pattern` は "*.csv" のようなファイル名パターンにしてください（すべてのファイルなら省略）
form-alarm-not-for-new-file = `{ $key }` は kind = "new_file" には使えません（新しいファイルはすぐにアラームを発報します）
form-alarm-no-specials = 特殊値の種類を 1 つ以上指定してください（すべてなら `specials` を省略）
form-alarm-below-zero = `below` は 0 バイトより大きくしてください
form-alarm-below = `below`: { $message }
form-alarm-filter = `filter` は 24h 以下にしてください（指定値: { $got }）
form-alarm-destination-id = 通知先 ID { $id } は有効な ID ではありません
form-alarm-destination-twice = 通知先 { $id } が重複しています
form-alarm-reminder = `reminder` は 1m から 7d の間にしてください（指定値: { $got }）
form-alarm-message = `message` が { $max } バイトを超えています
form-alarm-not-finite = `{ $key }` は有限の数値にしてください（指定値: { $got }）
form-alarm-op-needs = 演算子 "{ $op }" には `{ $key }` が必要です
form-alarm-op-range-no-value = 演算子 "{ $op }" は `value` ではなく `low` と `high` を使います
form-alarm-op-value-only = 演算子 "{ $op }" は `{ $key }` ではなく `value` を使います
form-alarm-high-not-above-low = `high` ({ $high }) は `low` ({ $low }) より大きくしてください
form-alarm-duplicate-id = `id` { $id } は別のアラームルールで使われています
form-alarm-not-object = ルールは JSON オブジェクトにしてください: { $reason }
form-alarm-required = `{ $key }` は必須です

## [[destination]]: where alarm notifications go (the field goes before it)
form-dest-id = A-Z a-z 0-9 _ - の 1～64 文字
form-dest-name = 空にはできず、200 文字以内です
form-dest-only-email = メールの通知先でのみ使えます
form-dest-only-webhook = Webhook の通知先でのみ使えます
form-dest-not-built-email = このビルドの Meterdeck にはメール通知先がありません（cargo フィーチャー `email` なしでビルド）: このフィーチャー付きのビルドを使うか、設定から削除してください
form-dest-not-built-desktop = このビルドの Meterdeck にはデスクトップ通知がありません（cargo フィーチャー `desktop-notify` なしでビルド）: このフィーチャー付きのビルドを使うか、設定から削除してください
form-dest-webhook-format = Webhook の通知先には必須です: slack, teams, json のいずれか
form-dest-email-host = メールの通知先には必須です（SMTP サーバーの名前またはアドレス）
form-dest-bad-host = { $host } はホスト名でもアドレスでもありません（ポートは `port` で指定）
form-dest-port = 1～65535 にしてください
form-dest-username = 空にはできません（ログイン不要のサーバーなら省略）
form-dest-email-from = メールの通知先には必須です（例: "Meterdeck <alarms@example.com>"）
form-dest-not-an-address = { $address } はメールアドレスではありません: { $reason }
form-dest-email-to = 宛先アドレスが 1 つ以上必要です
form-dest-duplicate-id = 通知先 ID { $id } が重複しています

## [[files]]: an instrument's measurement files over FTP (the field goes before it)
form-files-not-an-instrument = `{ $id }` はこの設定の計測器ではありません
form-files-not-on-lan = 計測器 `{ $id }` は LAN 上にありません: FTP の `host` を指定してください
form-files-host-empty = 空にはできません
form-files-port = 1..65535 にしてください
form-files-user = 空にはできません（`anonymous` を使用）
form-files-depth = サブフォルダーは 8 階層までです
form-files-interval = 1s .. 24h にしてください
form-files-timeout = 100ms .. 10m にしてください
form-files-auto-max = { $max } (1 GB) までです
form-files-delete-needs-upload = `upload = true` が必要です: ファイルはクラウドがコピーを確認してから削除されます
form-files-second-section = 2 つ目の `[[files]]` セクションがあります

## [cloud]: the link to the cloud
form-cloud-host = `cloud.host` には MQTT ブローカーを指定してください
form-cloud-port = `cloud.port` は 1..65535 にしてください
form-cloud-tls-only = `cloud.{ $key }` は TLS でのみ使われます: `tls = true` を追加してください（または削除）
form-cloud-pem-file = `cloud.{ $key }` には PEM ファイルを指定してください
form-cloud-client-key = `cloud.client_key` は `client_cert` と一緒に指定してください（相互 TLS）
form-cloud-client-cert = `cloud.client_cert` は `client_key` と一緒に指定してください（相互 TLS）
form-cloud-agent = `cloud.agent` はクラウドが発行したエージェント ID（A-Z a-z 0-9 _ - の 1～64 文字）にしてください（指定値: { $got }）
form-cloud-allowance-zero = `cloud.monthly_allowance` は 0 バイトより大きくしてください
form-cloud-window = `cloud.window` は 1..1000 バッチにしてください（指定値: { $got }）
form-cloud-resend-timeout = `cloud.resend_timeout` は 1s から 1h の間にしてください（指定値: { $got }）
form-cloud-send-interval = `cloud.send_interval` は 100ms から 1h の間にしてください（指定値: { $got }）
form-cloud-api = `cloud.api` はクラウドの Web API（http(s)://host:port）にしてください（指定値: { $got }）
form-cloud-licence-key = `cloud.licence_key`: { $reason }。`meterdeck-agent cloud login --api URL` を実行してクラウドの鍵を登録してください
form-cloud-account = `cloud.account` はクラウドのアカウント ID（印字可能な 1～128 文字）にしてください

## The configuration file (after "FILE:LINE:COL: ")
config-read = 読み込めません: { $reason }
config-field = { $field }: { $message }
config-files-field = `{ $field }`: { $message }
config-instrument-id-used = 計測器 `{ $id }`: `id` は別の計測器で使われています
config-instrument-id-at-line = 計測器 `{ $id }`: `id` は { $line } 行目の計測器で使われています
config-reserved-instrument = `{ $id }` は演算チャネル用に予約されています。計測器の名前を変更してください
config-no-destination = ID `{ $id }` の [[destination]] がありません
config-agent-name = `agent.name` は空にできません
config-agent-poll-interval = `agent.poll_interval` は 100ms から 1h の間にしてください（指定値: { $got }）
config-agent-quota-both = `agent.disk_quota` と `agent.disk_quota_mb` はどちらか一方だけを指定してください
config-agent-quota-mb-too-large = `agent.disk_quota_mb` が大きすぎます
config-agent-quota-too-small = ディスク容量の上限は 16 MiB 以上にしてください（指定値: { $got } バイト）
config-agent-keep-unsynced = `agent.keep_unsynced` は 14d 以上にしてください（指定値: { $got }）
config-agent-block-samples = `agent.block_samples` は 16..65536 にしてください（指定値: { $got }）
