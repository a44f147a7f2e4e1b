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

# Desktop service refusals: the errors of the desktop service, the
# instrument configuration, reports, dashboards, export and licences that
# reach the window. English reads exactly as the code's Display text.

## Desktop service refusals (the window shows them where the user acted)
err-desk-create = { $path } kann nicht angelegt werden: { $reason }
err-desk-read = { $path } kann nicht gelesen werden: { $reason }
err-desk-demo-history = Schreiben des Demo-Verlaufs: { $reason }
err-desk-unexpected-reply = unerwartete Antwort { $reply }
err-desk-no-alarm-rule = keine Alarmregel `{ $id }`
err-desk-no-calc = kein Rechenkanal `{ $id }`
err-desk-no-destination = kein Benachrichtigungsziel `{ $id }`
err-empty-range = leerer Zeitraum: Beginn { $from } liegt nicht vor Ende { $to }
err-desk-too-many-shown = höchstens { $max } Kanäle können gleichzeitig angezeigt werden, { $n } wurden gewählt
err-desk-plot-width = die Diagrammbreite muss 1..{ $max } Pixel betragen, erhalten: { $got }
err-desk-too-many-listed = höchstens { $max } Kanäle können gleichzeitig aufgelistet werden
err-desk-row-limit = die Zeilenzahl muss 1..{ $max } betragen, erhalten: { $got }
err-desk-no-licence-key = kein Lizenzschlüssel hinterlegt: Melden Sie sich zuerst beim Cloud-Dienst an
err-desk-report-not-generated = der Bericht wurde nicht erstellt
err-desk-report-vanished = Berichtslauf { $run } ist verschwunden
err-desk-no-report-run = kein Berichtslauf { $run }
err-desk-report-no-pdf = Berichtslauf { $run } hat kein PDF (er ist fehlgeschlagen oder die Datei wurde entfernt)
err-desk-pdf-path = der Speicherpfad `{ $path }` muss absolut sein und auf .pdf enden
err-desk-no-folder = der Ordner { $path } existiert nicht
err-desk-no-operator = geben Sie einen Bedienernamen ein, bevor Sie die Konsole verwenden
err-desk-unknown-control = unbekannter Steuerbefehl `{ $name }` (einer von start, stop, restart, set-clock)
err-desk-control-held = { $action } abgelehnt: die Konsole von `{ $instrument }` hält { $holder } seit { $since }; geben Sie diesen Bedienernamen ein oder geben Sie die Konsole zuerst frei
err-action-start = Messung starten
err-action-stop = Messung stoppen
err-action-restart = Messung neu starten
err-action-set-clock = Uhr stellen
err-action-read-settings = Einstellungen lesen
err-action-push-profile = Profil übertragen
err-desk-no-settings = `{ $instrument }` führt keine zu speichernden Einstellungen auf (fügen Sie dem Messgerät `settings = [...]` hinzu)
err-desk-in-file = { $path }: { $reason }
err-desk-no-image-path = geben Sie die Bilddatei an (PNG, JPEG, GIF, WebP oder SVG)
err-desk-image-path-absolute = der Bildpfad `{ $path }` muss absolut sein (z. B. /home/me/plant.png)
err-desk-no-board-file-export = geben Sie die Zieldatei für den Export an (endet auf .json)
err-desk-no-board-file-import = geben Sie die zu importierende Datei an (endet auf .json)
err-desk-board-path-absolute = der Pfad `{ $path }` muss absolut sein (z. B. /home/me/board.json)
err-desk-board-path-json = der Pfad `{ $path }` muss auf .json enden
err-desk-no-files-section = Messgerät `{ $instrument }` hat keinen Abschnitt [[files]]: es stellt keine Dateien bereit
err-desk-no-upload-cloud = keine Cloud zum Hochladen: die Konfiguration braucht einen Abschnitt [cloud] mit `api` und das Geheimnis des Agenten im Schlüsselbund (meterdeck-agent cloud login)
err-desk-no-local-file = keine lokale Datei mit der ID { $id }
err-desk-settings-json = Einstellungen: { $reason }
err-desk-identify-disabled = Messgerät `{ $id }` ist deaktiviert; aktivieren Sie es, um es zu identifizieren
err-desk-disabled = Messgerät `{ $id }` ist deaktiviert; aktivieren Sie es zuerst
err-desk-hosts = Hosts `{ $hosts }`: { $reason }
err-desk-sweep-timeout = das Zeitlimit muss 1..60000 ms betragen, erhalten: { $got }
err-desk-port-zero = Port 0 kann nicht abgesucht werden; verwenden Sie 1..65535
err-desk-baud = die Baudrate muss > 0 sein
err-desk-no-serial-port = wählen Sie mindestens eine serielle Schnittstelle zum Abfragen
err-desk-ble-seconds = ein BLE-Scan dauert 1..120 s, erhalten: { $got }
err-desk-no-export-path = geben Sie die Zieldatei für den Export an (endet auf .csv oder .zip)
err-desk-export-absolute = der Exportpfad `{ $path }` muss absolut sein (z. B. /home/me/data.zip)
err-desk-export-ext = der Exportpfad `{ $path }` muss auf .csv oder .zip enden
err-desk-event-limit = die Ereignisanzahl muss 1..{ $max } betragen, erhalten: { $got }
err-desk-event-kind = unbekannte Ereignisart `{ $kind }` (eine von connected, disconnected, error, agent-started, agent-stopped, retention)
err-desk-no-command = geben Sie einen zu sendenden Befehl ein
err-desk-internal = interner Fehler: { $reason }
err-desk-toml = { $what } kann nicht als TOML geschrieben werden: { $reason }
err-desk-toml-instruments = die Messgeräteliste
err-desk-toml-calcs = die Rechenkanäle
err-desk-toml-alarms = die Alarmregeln
err-desk-toml-destinations = die Benachrichtigungsziele
err-desk-toml-files = die Dateiquellen
err-desk-toml-config = die Konfiguration kann nicht als TOML geschrieben werden: { $reason }
err-desk-duplicate-id = Messgerät `{ $id }`: `id` wird bereits von einem anderen Messgerät verwendet; wählen Sie eine andere ID
err-desk-language = die Sprache muss `en`, `ja` oder `de` sein, erhalten: `{ $got }`
err-desk-theme = das Design muss `light` oder `dark` sein, erhalten: `{ $got }`
err-desk-time-zone = die Zeitzone `{ $tz }` ist kein IANA-Zeitzonenname (zum Beispiel `Europe/Berlin`, `Asia/Tokyo`, `UTC`)

## Settings profiles of an instrument
err-profile-name = Profilname { $name }: verwenden Sie 1-64 Buchstaben, Ziffern, `-`, `_` oder `.`
err-profile-not-found = Messgerät `{ $instrument }` hat kein Profil `{ $name }` (gespeichert: { $known })
err-profile-file = Profildatei { $path }: { $reason }; es wurde nichts gespeichert
err-profile-damaged = die gespeicherten Profile von `{ $instrument }` können nicht gelesen werden ({ $reason })

## Instrument configuration (device-drivers: InstrumentConfig::validate and the family checks)
err-config-empty-id = Messgerät: `id` darf nicht leer sein
err-config-empty-terminator = Messgerät `{ $id }`: `terminator` darf nicht leer sein
err-config-baud = Messgerät `{ $id }`: `transport.baud` muss > 0 sein
err-config-data-bits = Messgerät `{ $id }`: `transport.data_bits` muss 5..8 sein, erhalten: { $got }
err-config-stop-bits = Messgerät `{ $id }`: `transport.stop_bits` muss 1 oder 2 sein, erhalten: { $got }
err-config-poll-interval = Messgerät `{ $id }`: `poll_interval` muss zwischen 100ms und 1h liegen, erhalten: { $got }
err-config-timeout = Messgerät `{ $id }`: `transport.timeout` muss > 0 sein
err-config-empty-channel-id = Messgerät `{ $id }`: ein Kanal hat eine leere `id`
err-config-duplicate-channel = Messgerät `{ $id }`: Kanal `{ $channel }` ist doppelt aufgeführt
err-config-not-finite = Messgerät `{ $id }`: Kanal `{ $channel }`: `scale` und `offset` müssen endlich sein
err-config-setting = Messgerät `{ $id }`: `settings`-Eintrag `{ $key }`: { $problem }
err-config-family = Messgerät `{ $id }`: { $problem }
err-setting-key-empty = ist leer
err-setting-key-register = muss eine Holding-Register-Adresse 0..65535 sein
err-setting-key-header = muss ein einzelner Einstellungskopf wie `:SAMPle:RATE` sein (ohne `?`, `;` oder Leerzeichen)
err-field-missing = benötigt `{ $key }` (Familie { $family })
err-field-type = `{ $key }` muss { $expected } sein
err-field-expected-text = Text
err-field-expected-number = eine endliche Zahl
err-field-range = `{ $key }` muss { $min }..{ $max } sein, erhalten: { $got }
err-field-choice = `{ $key }` muss eines von { $allowed } sein, erhalten: `{ $got }`
err-field-transport = Familie { $family } funktioniert nicht über `transport.kind` { $got }; verwenden Sie { $allowed }
err-field-unused = `{ $key }` wird von Familie { $family } nicht verwendet
err-field-no-port = `transport.port` muss angegeben werden: Familie { $family } hat keinen Standardport
err-field-channel = Kanal `{ $channel }`: { $problem }
err-field-read-config = die Konfiguration kann nicht gelesen werden: { $reason }
err-field-channel-timeout = `timeout` muss > 0 und höchstens 1m sein, erhalten: { $got }
err-field-error-format-unused = `error_format` ist angegeben, aber `error_query` ist "none" (keine Fehlerwarteschlange)
err-field-error-query-empty = `error_query` muss eine Abfrage wie ":SYSTem:ERRor?" oder "none" sein, erhalten: `{ $got }`
err-field-error-query-line = `error_query` muss eine einzelne Abfrage in einer Zeile sein, erhalten: `{ $got }`
err-field-error-query-mark = `error_query` muss eine auf `?` endende Abfrage sein (oder "none"), erhalten: `{ $got }`
err-field-line-empty = `{ $key }` darf nicht leer sein, erhalten: `{ $got }`
err-field-line-multi = `{ $key }` muss eine einzelne Zeile sein, erhalten: `{ $got }`
err-field-select-reply-alone = `select_reply` ist angegeben, `select` aber nicht
err-field-select-serial = `select` spricht ein Gerät an einer gemeinsamen seriellen Leitung an; es braucht eine serielle Verbindung
err-field-fixed-registers = Kanal `{ $channel }`: `{ $key }` wird von Familie sdm630 nicht verwendet (ihre Registerbelegung ist fest); lassen Sie es weg
err-field-fixed-characteristics = Kanal `{ $channel }`: `{ $key }` wird von Familie ble-ess nicht verwendet (ihre Charakteristiken sind fest); lassen Sie es weg

## Network sweep host lists
err-hosts-empty = keine Hosts angegeben (z. B. `192.168.1.1-254` oder `192.168.1.0/24`)
err-hosts-too-many-all = `{ $hosts }` umfasst mehr als { $max } Hosts; durchsuchen Sie einen kleineren Bereich
err-hosts-too-many = `{ $item }` umfasst { $count } Hosts; höchstens { $max } pro Suche
err-hosts-prefix = `{ $item }`: die Präfixlänge muss 0..32 sein
err-hosts-last-octet = `{ $item }`: `{ $end }` ist keine Adresse und kein letztes Oktett 0..255
err-hosts-backwards = `{ $item }`: der Bereich endet vor seinem Beginn
err-hosts-not-address = `{ $item }` ist keine IP-Adresse, kein Bereich und kein CIDR-Block
err-hosts-not-v4 = `{ $item }`: `{ $text }` ist keine IPv4-Adresse

## Licence files and keys
err-licence-key = Lizenzschlüssel: { $reason }
err-licence-key-prefix = ein Lizenzschlüssel beginnt mit `md-ed25519:`
err-licence-key-base64 = der Lizenzschlüssel nach `md-ed25519:` ist kein Base64
err-licence-key-length = ein Lizenzschlüssel umfasst 32 Bytes, dieser { $n }
err-licence-key-point = der Lizenzschlüssel ist kein gültiger öffentlicher ed25519-Schlüssel
err-licence-not-a-licence = dies ist keine Meterdeck-Lizenzdatei ({ $reason }); rufen Sie die Lizenz erneut aus der Cloud ab
err-licence-truncated = die Lizenzdatei ist unvollständig; rufen Sie die Lizenz erneut aus der Cloud ab
err-licence-wrong-key = die Lizenz wurde mit Schlüssel { $signed_by } signiert, diese Installation vertraut aber { $trusted } (der Cloud, bei der sie registriert ist); rufen Sie die Lizenz von dieser Cloud ab oder registrieren Sie sich erneut
err-licence-altered = die Lizenzdatei wurde verändert (ihr Feld { $part } stimmt nicht); rufen Sie die Lizenz erneut aus der Cloud ab
err-licence-unreadable = die Lizenz ist signiert, aber diese Version kann sie nicht lesen ({ $reason }); aktualisieren Sie Meterdeck
err-licence-other-account = die Lizenz gehört zum Konto { $licence }, nicht zu { $ours }; rufen Sie die Lizenz dieses Kontos ab
err-licence-future = die Lizenz wurde bei { $issued_at } ms ausgestellt, nach der Uhr dieses Computers ({ $now } ms): prüfen Sie die Uhr und rufen Sie die Lizenz dann erneut ab

## Plan limits
err-limit = der Plan { $plan } erlaubt { $max } { $noun }; { $what }: { $lift } (siehe `meterdeck-agent licence show` oder die Lizenzseite)
err-limit-noun-instruments = Messgeräte pro Agent
err-limit-noun-channels = Kanäle pro Messgerät
err-limit-noun-alarms = Alarmregeln pro Agent
err-limit-noun-calcs = Rechenkanäle pro Agent
err-limit-noun-panels = Dashboard-Felder pro Agent
err-limit-instrument-has = Messgerät `{ $instrument }` hat { $count } und die Änderung verlangt { $wanted }
err-limit-agent-has = dieser Agent hat { $count } und die Änderung verlangt { $wanted }
err-limit-lift-remote-pro = entfernen Sie einige (Remote Pro ist der größte Gateway-Plan)
err-limit-lift-remote-card = entfernen Sie einige oder wenden Sie eine Remote-Pro-Karte auf dieses Gateway an
err-limit-lift-gateway = entfernen Sie einige oder lizenzieren Sie diesen Agenten als Gateway (Remote-Plan-Karte)
err-limit-lift-pro = entfernen Sie einige (Pro ist der größte Plan)
err-limit-lift-standard = entfernen Sie einige oder stellen Sie das Konto auf den Plan Pro um
err-limit-lift-free = entfernen Sie einige oder wenden Sie eine Standard- oder Pro-Lizenzkarte auf das Konto an
err-limit-templates = der Plan { $plan } erlaubt { $max } Berichtsvorlagen; dieser Agent hat { $count } und eine neue ergäbe { $next }: { $lift } (siehe `meterdeck-agent licence show` oder die Lizenzseite)
err-limit-templates-lift-pro = entfernen Sie eine (Pro ist der größte Plan)
err-limit-templates-lift-standard = entfernen Sie eine oder stellen Sie das Konto auf den Plan Pro um
err-limit-templates-lift-free = wenden Sie eine Standard- oder Pro-Lizenzkarte auf das Konto an

## Reports: templates, schedules, runs
err-report-field = { $field }: { $message }
err-report-unknown-template = keine Berichtsvorlage namens { $name }
err-report-template = Vorlage { $name }: { $reason }
err-report-create = { $path } kann nicht angelegt werden: { $reason }
err-report-template-invalid = Berichtsvorlage: { $reason }
err-report-bad-range = der Beginn des Zeitraums muss vor seinem Ende liegen
err-report-unknown-channel = Kanal { $channel } ist nicht im Speicher
err-report-logo = Logo { $path }: { $reason }
err-report-time-zone = die Zeitzone { $tz } ist keine IANA-Zeitzone
err-report-journal = Lesen des Alarmjournals: { $reason }
err-report-render = Zeichnen des Berichts: { $reason }
err-report-write = Schreiben von { $path }: { $reason }
err-range-time-zone = die Zeitzone { $tz } ist kein IANA-Zeitzonenname (z. B. Europe/Berlin, Asia/Tokyo)
err-range-empty = der feste Zeitraum muss nach seinem Beginn enden (von { $from } ms bis { $to } ms)
err-range-out = { $t } ms liegt außerhalb der Daten, die ein Bericht abdecken kann
err-schedule-at = { $at } ist keine Ortszeit HH:MM (00:00 bis 23:59)
err-schedule-weekday = { $weekday } ist kein Wochentag (mon, tue, wed, thu, fri, sat, sun)
err-schedule-day = { $day } ist kein Tag des Monats (1 bis 31)
err-schedule-date-range = Datum außerhalb des Bereichs
err-schedule-no-due = kein Fälligkeitszeitpunkt innerhalb von 400 Tagen
err-saved-name-length = 1 bis 100 Zeichen, ohne Leerzeichen am Anfang oder Ende
err-saved-name-chars = darf weder `/` noch Steuerzeichen enthalten
err-saved-destination = kein Benachrichtigungsziel `{ $name }` in der Konfiguration (eines von: { $known })
err-saved-name-taken = eine Vorlage namens { $name } existiert bereits
err-template-no-name = `name` ist leer
err-template-no-channels = `channels` führt keinen Kanal auf
err-template-too-many-channels = `channels` führt { $n } Kanäle auf, höchstens { $max }
err-template-channel-path = Kanal { $channel } ist kein Pfad der Form `instrument/channel`
err-template-group-empty = Diagrammgruppe { $group } führt keinen Kanal auf
err-template-group-channel = Diagrammgruppe { $group } nennt { $channel }, das nicht in `channels` steht
err-template-threshold-channel = die Schwellwerte nennen { $channel }, das nicht in `channels` steht
err-template-threshold-finite = die Schwellwerte von { $channel } müssen endliche Zahlen sein
err-template-time-zone = `time_zone` { $tz } ist keine IANA-Zeitzone
err-template-fixed-range = beim festen Zeitraum muss `from` vor `to` liegen

## Data export
err-export-write = { $path } kann nicht geschrieben werden: { $reason }
err-export-no-channels = keine Kanäle zum Exportieren

## Dashboards: boards, panels, board files and images
err-board-no-name = geben Sie einen Namen für die Tafel ein
err-board-name-length = ein Tafelname hat höchstens { $max } Zeichen
err-board-panel-size = { $what }: Breite und Höhe müssen mindestens 1 Zelle betragen (erhalten: { $w }x{ $h })
err-board-panel-off-grid = { $what }: in Spalte { $x }, Zeile { $y } mit Größe { $w }x{ $h } ragt es über das { $cols }x{ $rows }-Raster hinaus
err-board-panel-title = { $what }: ein Titel hat höchstens { $max } Zeichen
err-board-panel-no-channel = { $what }: wählen Sie mindestens einen Kanal
err-board-panel-channels = { $what }: ein Feld zeigt höchstens { $max } Kanäle
err-board-image-no-channels = { $what }: ein reines Bildfeld zeigt keine Kanäle (verwenden Sie image-values)
err-board-choose-image = { $what }: wählen Sie ein Bild
err-board-image-only = { $what }: nur Bildfelder haben ein Bild
err-board-image-name = { $what }: Bild `{ $name }` ist kein Bilddateiname des Datenverzeichnisses
err-board-placements-kind = { $what }: nur image-values-Felder platzieren Werte
err-board-placement-channel = { $what }: der platzierte Kanal `{ $channel }` gehört nicht zu den Kanälen des Felds
err-board-placement-outside = { $what }: die Platzierung von `{ $channel }` bei ({ $x }, { $y }) liegt außerhalb des Bilds (0..1)
err-board-rules-kind = { $what }: nur Alarmlisten wählen Regeln
err-dashboard-unknown-board = keine Dashboard-Tafel mit der ID { $id }
err-dashboard-unknown-panel = Tafel { $board } hat kein Feld { $panel }
err-dashboard-channel-form = { $what }: Kanal `{ $channel }` hat nicht die Form instrument/channel
err-dashboard-channel-unknown = { $what }: Kanal `{ $channel }` ist kein Kanal dieses Agenten
err-dashboard-channel-twice = { $what }: Kanal `{ $channel }` ist doppelt aufgeführt
err-dashboard-overlap = { $what } überlappt { $other }
err-dashboard-panel-id-twice = { $what }: Feld-ID { $id } wird doppelt verwendet
err-dashboard-file = Dashboard-Datei: { $problem }
err-dashboard-write-board = die Tafel kann nicht geschrieben werden: { $reason }
err-dashboard-what-image = Bild `{ $name }`
err-dashboard-what-file = Datei { $path }
err-dashboard-file-not-json = kein JSON ({ $reason })
err-dashboard-file-not-object = kein JSON-Objekt
err-dashboard-file-no-format = kein Meterdeck-Dashboard (kein Schlüssel `{ $key }`)
err-dashboard-file-version = Version { $got } kann dieses Meterdeck nicht lesen (es liest Version { $version })
err-dashboard-file-field = `{ $field }`: { $reason }
err-dashboard-file-name = Name: { $problem }
err-dashboard-file-image-missing = Feld { $panel }: Bild `{ $name }` fehlt in `images` der Datei
err-dashboard-file-image-base64 = Bild `{ $name }` ist kein Base64 ({ $reason })
err-dashboard-not-image = { $what } ist kein PNG-, JPEG-, GIF-, WebP- oder SVG-Bild
err-dashboard-image-size = { $what } ist { $mb } MB groß; Bilder bis { $max } MB werden angenommen
err-dashboard-create = { $path } kann nicht angelegt werden: { $reason }
err-dashboard-write = { $path } kann nicht geschrieben werden: { $reason }
err-dashboard-read-image = Bild { $path } kann nicht gelesen werden: { $reason }
err-dashboard-not-file = { $path } ist keine Datei
err-dashboard-image-too-large = Bild { $path } ist größer als { $max } MB
err-dashboard-not-kept-image = `{ $name }` ist kein Bild der Dashboards
err-dashboard-kept-not-image = Bild `{ $name }` im Datenverzeichnis ist kein Bild
err-dashboard-board-damaged = Tafel { $id } im Speicher kann nicht gelesen werden: { $reason }
err-dashboard-order = die neue Reihenfolge muss jede Tafel genau einmal nennen: Tafeln sind { $have }, die Reihenfolge nennt { $ids }

## The store (what SQLite or the OS said is quoted as it came)
err-store-open = der Speicher { $path } kann nicht geöffnet werden: { $reason }
err-store-create-dir = das Verzeichnis des Speichers { $path } kann nicht angelegt werden: { $reason }
err-store-database = Speicher { $path }: { $op } fehlgeschlagen: { $reason }
err-store-sqlite = Datenbankfehler: { $reason }
err-store-schema-too-new = der Speicher { $path } hat die Schemaversion { $found }, diese Version kennt Versionen bis { $supported }; verwenden Sie ein neueres Meterdeck
err-store-schema-mismatch = der Speicher { $path } hat die Schemaversion { $found }, erwartet wird { $expected }; öffnen Sie ihn einmal mit Schreibzugriff (starten Sie den Agenten), um ihn zu migrieren
err-store-part-too-new = der Speicher { $path } enthält die Tabellen { $part } in Version { $found }, diese Version kennt Versionen bis { $supported }; verwenden Sie ein neueres Meterdeck

## Alarm actions and destinations (window forms)
err-desk-shelve-minutes = für 1 bis { $max } Minuten zurückstellen, nicht { $minutes }
err-desk-no-secret = ein Desktop-Ziel hat kein Passwort und keine URL zum Speichern
err-desk-journal-action = unbekannte Journal-Aktion `{ $action }`
err-desk-enter-user = geben Sie an, wer Sie sind (1-100 Zeichen)

## Instruments, ports and radios
err-device-action-failed = { $action } fehlgeschlagen: { $reason }
err-device-no-identity = Messgerät `{ $id }`: { $family }-Geräte beantworten keine Identitätsabfrage
err-device-no-idn = Messgerät `{ $id }` hat auf `*IDN?` nicht geantwortet
err-device-idn-reply = Messgerät `{ $id }`: `*IDN?` antwortete { $reply }: { $reason }
err-device-serial-list = serielle Schnittstellen können nicht aufgelistet werden: { $reason }
err-device-ble-scan = Bluetooth-LE-Suche: { $reason }
