### Meterdeck engine (core) and desktop app: German.

## The tray icon's menu
tray-show = Fenster anzeigen
# After "Meterdeck: " in the tooltip and the menu's status line.
tray-none = keine Messgeräte eingerichtet
tray-quit = Beenden

## Alarm notifications (desktop, mail, webhook, the notification centre)
notify-alarm-raise = Alarm ausgelöst: { $name }
notify-alarm-return = Wieder normal: { $name }
notify-alarm-reminder = Erinnerung, nicht quittiert: { $name }
notify-alarm-body = { $name } ({ $severity })
notify-delivery-failed = Benachrichtigung an `{ $destination }` fehlgeschlagen
notify-sync-traffic-title = Datenvolumen der Cloud-Synchronisierung
notify-test-title = Meterdeck-Testbenachrichtigung
notify-test-body = Ein Test von Meterdeck an das Ziel „{ $name }“. Wenn Sie dies lesen, funktioniert es.
notify-view-link = Ansehen (30 Min. gültig): { $url }

## Summaries of a burst of notifications
notify-summary-alarm = { $n } Alarm
notify-summary-alarms = { $n } Alarme
notify-summary-notification = { $n } Benachrichtigung
notify-summary-notifications = { $n } Benachrichtigungen
notify-summary-more-alarm = { $n } weiterer Alarm
notify-summary-more-alarms = { $n } weitere Alarme
notify-summary-more-notification = { $n } weitere Benachrichtigung
notify-summary-more-notifications = { $n } weitere Benachrichtigungen
notify-summary-and-more = …und { $n } weitere

## Facts under a mail's or webhook's text
notify-fact-severity = Schweregrad
notify-fact-alarm = Alarm
notify-fact-time = Zeit

## Errors that reach the window (English must read as the code's own text)
err-unknown-instrument = kein Messgerät `{ $id }` ist eingerichtet
err-unknown-channel = kein Kanal mit der ID { $id } ist gespeichert
err-console-held = belegt von { $operator } seit { $since }
err-write = { $path } kann nicht geschrieben werden: { $reason }
err-simulator = der Simulator kann nicht gestartet werden: { $reason }
err-agent-unknown-instrument = unbekanntes oder deaktiviertes Messgerät `{ $id }`
err-agent-not-connected = Messgerät `{ $id }` ist nicht verbunden
err-agent-instrument = Messgerät `{ $id }`: { $reason }
err-agent-stopped = der Agent wurde beendet
err-alarm-unknown = unbekannter Alarm { $id }
err-alarm-not-unacked = Alarm { $id } ist nicht unquittiert (Zustand { $state })
err-alarm-not-shelved = Alarm { $id } ist nicht zurückgestellt
err-alarm-shelve-past = Alarm { $id }: Zurückstellen bis { $until } liegt nicht nach jetzt ({ $now })
err-alarm-out-of-service = Alarm { $id } ist bereits außer Betrieb
err-alarm-in-service = Alarm { $id } ist bereits in Betrieb
err-alarm-no-user = zum Ausführen von { $action } ist ein Benutzername nötig
err-no-notification = keine Benachrichtigung mit der ID `{ $id }`
err-cloud-not-signed-in = nicht bei einem Cloud-Konto angemeldet: Melden Sie sich zuerst an
err-cloud-signed-out = abgemeldet: Melden Sie sich erneut an
err-cloud-unreachable = der Cloud-Dienst unter { $url } ist nicht erreichbar: { $reason }
err-cloud-server = der Cloud-Dienst ist fehlgeschlagen (HTTP { $status }): { $message }
