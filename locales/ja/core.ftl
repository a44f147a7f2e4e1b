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
