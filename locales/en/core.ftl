### Meterdeck engine (core) and desktop app: desktop notifications, alarm mails and webhooks, the tray menu.

## The tray icon's menu
tray-show = Show window
# After "Meterdeck: " in the tooltip and the menu's status line.
tray-none = no instruments configured
tray-quit = Quit

## Alarm notifications (desktop, mail, webhook, the notification centre)
notify-alarm-raise = Alarm: { $name }
notify-alarm-return = Returned to normal: { $name }
notify-alarm-reminder = Reminder, not acknowledged: { $name }
# Body when the rule has no message and no values: the alarm's name and severity.
notify-alarm-body = { $name } ({ $severity })
notify-delivery-failed = Notification to `{ $destination }` failed
notify-sync-traffic-title = Cloud sync traffic
notify-test-title = Meterdeck test notification
notify-test-body = A test from Meterdeck to the destination "{ $name }". If you read this, it works.
notify-view-link = View (valid 30 min): { $url }

## Summaries of a burst of notifications
notify-summary-alarm = { $n } alarm
notify-summary-alarms = { $n } alarms
notify-summary-notification = { $n } notification
notify-summary-notifications = { $n } notifications
notify-summary-more-alarm = { $n } more alarm
notify-summary-more-alarms = { $n } more alarms
notify-summary-more-notification = { $n } more notification
notify-summary-more-notifications = { $n } more notifications
notify-summary-and-more = …and { $n } more

## Facts under a mail's or webhook's text
notify-fact-severity = Severity
notify-fact-alarm = Alarm
notify-fact-time = Time

## Errors that reach the window (English must read as the code's own text)
err-unknown-instrument = no instrument `{ $id }` is configured
err-unknown-channel = no channel with id { $id } is stored
err-console-held = held by { $operator } since { $since }
err-write = cannot write { $path }: { $reason }
err-simulator = cannot start the simulator: { $reason }
err-agent-unknown-instrument = unknown or disabled instrument `{ $id }`
err-agent-not-connected = instrument `{ $id }` is not connected
err-agent-instrument = instrument `{ $id }`: { $reason }
err-agent-stopped = the agent has stopped
err-alarm-unknown = unknown alarm { $id }
err-alarm-not-unacked = alarm { $id } is not unacknowledged (state { $state })
err-alarm-not-shelved = alarm { $id } is not shelved
err-alarm-shelve-past = alarm { $id }: shelve until { $until } is not after now ({ $now })
err-alarm-out-of-service = alarm { $id } is already out of service
err-alarm-in-service = alarm { $id } is already in service
err-alarm-no-user = a user name is required to { $action }
err-no-notification = no notification with id `{ $id }`
err-cloud-not-signed-in = not signed in to a cloud account: sign in first
err-cloud-signed-out = signed out: sign in again
err-cloud-unreachable = cannot reach the cloud service at { $url }: { $reason }
err-cloud-server = the cloud service failed (HTTP { $status }): { $message }
