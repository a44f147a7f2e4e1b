# Refusals of the forms and of the configuration file: the instrument,
# calculation, alarm, destination, files and cloud sections. English reads
# exactly as the code's Display text (core and device-drivers tests check it).


## A calculation's expression (the column goes before it)
form-expr-column = Spalte { $column }: { $message }
form-expr-too-long = der Ausdruck ist länger als { $max } Zeichen
form-expr-empty = der Ausdruck ist leer
form-expr-unmatched-paren = `)` ohne passende öffnende Klammer
form-expr-expected-operator = Operator (+ - * /) nach `{ $before }` erwartet, gefunden: `{ $found }`
form-expr-unexpected-char = unerwartetes Zeichen `{ $char }`
form-expr-unexpected-caret = unerwartetes Zeichen `{ $char }` (für ein Quadrat SQ(x) schreiben)
form-expr-unexpected-comma = unerwartetes Zeichen `{ $char }` (das Dezimaltrennzeichen ist `.`)
form-expr-exponent = ungültige Zahl `{ $number }`: der Exponent braucht Ziffern, z. B. `1e3`
form-expr-number-then-name = `{ $number }{ $name }` ist keine Zahl (zum Multiplizieren `{ $number } * { $name }` schreiben)
form-expr-malformed-number = ungültige Zahl `{ $number }`
form-expr-number-too-large = die Zahl `{ $number }` ist zu groß
form-expr-too-deep = zu tief verschachtelt (mehr als { $max } Ebenen aus Klammern, Funktionen und Minuszeichen)
form-expr-function-as-variable = `{ $name }` ist eine Funktion: `{ $name }(x)` schreiben (kein Variablenname möglich)
form-expr-unknown-function = unbekannte Funktion `{ $name }` (es gibt SQ(x) und SQR(x))
form-expr-expected-operand = Zahl, Variable, `(` oder `-` erwartet, gefunden: `{ $found }`
form-expr-expected-operand-end = Zahl, Variable, `(` oder `-` erwartet, gefunden: das Ende
form-expr-expected-operand-after = Zahl, Variable, `(` oder `-` nach `{ $before }` erwartet, gefunden: `{ $found }`
form-expr-expected-operand-after-end = Zahl, Variable, `(` oder `-` nach `{ $before }` erwartet, gefunden: das Ende
form-expr-expected-close = `)` nach `{ $before }` erwartet, gefunden: `{ $found }`
form-expr-expected-close-end = `)` nach `{ $before }` erwartet

## [[calc]]: a calculation channel
form-calc-text-too-long = `{ $field }` ist länger als { $max } Zeichen
form-calc-text-control = `{ $field }` darf keine Steuerzeichen enthalten (Zeilenumbrüche, Tabulatoren)
form-calc-tolerance = `tolerance` darf höchstens 1h sein, angegeben: { $got }
form-calc-no-inputs = eine Berechnung braucht mindestens einen Eingang, z. B. `inputs = {"{"} A = "logger1/CH1_1" {"}"}`
form-calc-too-many-inputs = höchstens { $max } Eingänge sind erlaubt, angegeben: { $got }
form-calc-bad-input-name = `{ $var }` ist als Eingangsname nicht möglich: Buchstaben, Ziffern und `_` verwenden, nicht mit einer Ziffer beginnen, nicht SQ oder SQR
form-calc-input-not-path = Eingang `{ $var }`: Kanalpfad `instrument/channel` erwartet, angegeben: { $path }
form-calc-own-output = Eingang `{ $var }`: eine Berechnung kann ihre eigene Ausgabe `{ $path }` nicht verwenden
form-calc-not-an-input = `{ $name }` ist keiner der Eingänge ({ $inputs })
form-calc-unused-input = Eingang `{ $var }` wird in `expr` nicht verwendet; verwenden oder entfernen
form-calc-duplicate-id = `id` `{ $id }` wird bereits von einer anderen Berechnung verwendet
form-calc-unknown-calc = Eingang `{ $var }`: es gibt keine Berechnung `{ $calc }` für `{ $path }`
form-calc-loop = Berechnungen verwenden gegenseitig ihre Ausgaben in einer Schleife: { $loop } (jede verwendet die nächste)
form-calc-id-empty = `id` darf nicht leer sein
form-calc-id-too-long = `id` ist länger als { $max } Zeichen
form-calc-id-chars = `id` { $id } darf nur Buchstaben A-Z a-z, Ziffern, `_` und `-` enthalten, gefunden: { $char }

## Shared by the sections: a key and what a parser (serde, toml) said about it
form-key-says = `{ $key }`: { $reason }

## Sizes as people write them (disk quota, monthly allowance, storage alarms)
form-size-unreadable = die Größe { $text } ist nicht lesbar (erwartet z. B. "2 GiB" oder "500 MB")
form-size-unknown-unit = unbekannte Größeneinheit { $unit } in { $text } (B, KB, MB, GB, TB, KiB, MiB, GiB oder TiB verwenden)
form-size-out-of-range = die Größe { $text } liegt außerhalb des zulässigen Bereichs

## [[alarm]]: an alarm rule
form-alarm-window = Zeitfenster: { $message }
form-alarm-window-no-days = mindestens einen Tag angeben (oder `days` weglassen)
form-alarm-window-unknown-day = unbekannter Tag { $day } (mon, tue, wed, thu, fri, sat, sun verwenden)
form-alarm-window-from = Uhrzeit HH:MM (00:00..23:59) erwartet, angegeben: { $got }
form-alarm-window-to = Uhrzeit HH:MM (00:00..24:00) erwartet, angegeben: { $got }
form-alarm-window-empty = `from` und `to` sind gleich; das Zeitfenster wäre leer (00:00 bis 24:00 für einen ganzen Tag verwenden)
form-alarm-window-tz = unbekannte Zeitzone { $name } (einen IANA-Namen wie "Europe/Berlin" verwenden)
form-alarm-id = `id` muss aus 1-64 Zeichen aus A-Z a-z 0-9 _ - bestehen, angegeben: { $got }
form-alarm-name = `name` muss 1-200 Zeichen lang sein (oder weglassen)
form-alarm-not-for-kind = `{ $key }` gilt nicht für kind = "{ $kind }"
form-alarm-threshold-no-channel = eine Schwellwertregel braucht `channel` ("instrument/channel")
form-alarm-channel-path = `{ $key }` muss "instrument/channel" sein, angegeben: { $got }
form-alarm-threshold-no-op = eine Schwellwertregel braucht `op` (> >= <= < outside_incl outside_excl)
form-alarm-deadband = `deadband` muss eine Zahl >= 0 sein, angegeben: { $got }
form-alarm-deadband-too-wide = `deadband` { $deadband } lässt kein Normalband zwischen low { $low } und high { $high } (nötig: 2 x deadband < high - low)
form-alarm-second = zweite Bedingung: { $message }
form-alarm-instrument = `instrument` muss eine Messgeräte-ID sein, angegeben: { $got }
form-alarm-pattern = `pattern` muss ein Dateinamenmuster wie "*.csv" sein (oder für alle Dateien weglassen)
form-alarm-not-for-new-file = `{ $key }` gilt nicht für kind = "new_file" (eine neue Datei löst den Alarm sofort aus)
form-alarm-no-specials = mindestens eine Sonderwertart angeben (oder `specials` für alle weglassen)
form-alarm-below-zero = `below` muss mehr als 0 Bytes sein
form-alarm-below = `below`: { $message }
form-alarm-filter = `filter` darf höchstens 24h sein, angegeben: { $got }
form-alarm-destination-id = Ziel-ID { $id } ist keine gültige ID
form-alarm-destination-twice = Ziel { $id } ist doppelt aufgeführt
form-alarm-reminder = `reminder` muss zwischen 1m und 7d liegen, angegeben: { $got }
form-alarm-message = `message` ist länger als { $max } Bytes
form-alarm-not-finite = `{ $key }` muss eine endliche Zahl sein, angegeben: { $got }
form-alarm-op-needs = Operator "{ $op }" braucht `{ $key }`
form-alarm-op-range-no-value = Operator "{ $op }" verwendet `low` und `high`, nicht `value`
form-alarm-op-value-only = Operator "{ $op }" verwendet `value`, nicht `{ $key }`
form-alarm-high-not-above-low = `high` ({ $high }) muss größer als `low` ({ $low }) sein
form-alarm-duplicate-id = `id` { $id } wird bereits von einer anderen Alarmregel verwendet
form-alarm-not-object = eine Regel muss ein JSON-Objekt sein: { $reason }
form-alarm-required = `{ $key }` ist erforderlich

## [[destination]]: where alarm notifications go (the field goes before it)
form-dest-id = 1 bis 64 Zeichen aus A-Z a-z 0-9 _ -
form-dest-name = darf nicht leer sein und höchstens 200 Zeichen haben
form-dest-only-email = nur für E-Mail-Ziele
form-dest-only-webhook = nur für Webhook-Ziele
form-dest-not-built-email = E-Mail-Ziele sind in diesem Build von Meterdeck nicht enthalten (ohne das Cargo-Feature `email` gebaut): einen Build mit diesem Feature verwenden oder sie aus der Konfiguration entfernen
form-dest-not-built-desktop = Desktop-Benachrichtigungen sind in diesem Build von Meterdeck nicht enthalten (ohne das Cargo-Feature `desktop-notify` gebaut): einen Build mit diesem Feature verwenden oder sie aus der Konfiguration entfernen
form-dest-webhook-format = für ein Webhook-Ziel erforderlich: slack, teams oder json
form-dest-email-host = für ein E-Mail-Ziel erforderlich (Name oder Adresse des SMTP-Servers)
form-dest-bad-host = { $host } ist kein Hostname und keine Adresse (den Port in `port` angeben)
form-dest-port = muss 1 bis 65535 sein
form-dest-username = darf nicht leer sein (für einen Server ohne Anmeldung weglassen)
form-dest-email-from = für ein E-Mail-Ziel erforderlich, z. B. "Meterdeck <alarms@example.com>"
form-dest-not-an-address = { $address } ist keine E-Mail-Adresse: { $reason }
form-dest-email-to = mindestens eine Empfängeradresse
form-dest-duplicate-id = doppelte Ziel-ID { $id }

## [[files]]: an instrument's measurement files over FTP (the field goes before it)
form-files-not-an-instrument = `{ $id }` ist kein Messgerät dieser Konfiguration
form-files-not-on-lan = Messgerät `{ $id }` ist nicht im LAN: den FTP-`host` angeben
form-files-host-empty = darf nicht leer sein
form-files-port = muss 1..65535 sein
form-files-user = darf nicht leer sein (`anonymous` verwenden)
form-files-depth = höchstens 8 Ebenen von Unterordnern
form-files-interval = muss 1s .. 24h sein
form-files-timeout = muss 100ms .. 10m sein
form-files-auto-max = höchstens { $max } (1 GB)
form-files-delete-needs-upload = erfordert `upload = true`: eine Datei wird erst gelöscht, wenn die Cloud ihre Kopie bestätigt hat
form-files-second-section = hat einen zweiten `[[files]]`-Abschnitt

## [cloud]: the link to the cloud
form-cloud-host = `cloud.host` muss den MQTT-Broker nennen
form-cloud-port = `cloud.port` muss 1..65535 sein
form-cloud-tls-only = `cloud.{ $key }` wird nur mit TLS verwendet: `tls = true` hinzufügen (oder den Eintrag entfernen)
form-cloud-pem-file = `cloud.{ $key }` muss eine PEM-Datei nennen
form-cloud-client-key = `cloud.client_key` muss zusammen mit `client_cert` angegeben werden (gegenseitiges TLS)
form-cloud-client-cert = `cloud.client_cert` muss zusammen mit `client_key` angegeben werden (gegenseitiges TLS)
form-cloud-agent = `cloud.agent` muss die von der Cloud vergebene Agent-ID sein: 1-64 Zeichen aus A-Z a-z 0-9 _ -, angegeben: { $got }
form-cloud-allowance-zero = `cloud.monthly_allowance` muss mehr als 0 Bytes sein
form-cloud-window = `cloud.window` muss 1..1000 Pakete sein, angegeben: { $got }
form-cloud-resend-timeout = `cloud.resend_timeout` muss zwischen 1s und 1h liegen, angegeben: { $got }
form-cloud-send-interval = `cloud.send_interval` muss zwischen 100ms und 1h liegen, angegeben: { $got }
form-cloud-api = `cloud.api` muss die Web-API der Cloud sein, http(s)://host:port, angegeben: { $got }
form-cloud-licence-key = `cloud.licence_key`: { $reason }; `meterdeck-agent cloud login --api URL` ausführen, um den Schlüssel der Cloud festzulegen
form-cloud-account = `cloud.account` muss die Konto-ID in der Cloud sein (1-128 druckbare Zeichen)

## The configuration file (after "FILE:LINE:COL: ")
config-read = kann nicht gelesen werden: { $reason }
config-field = { $field }: { $message }
config-files-field = `{ $field }`: { $message }
config-instrument-id-used = Messgerät `{ $id }`: `id` wird bereits von einem anderen Messgerät verwendet
config-instrument-id-at-line = Messgerät `{ $id }`: `id` wird bereits vom Messgerät in Zeile { $line } verwendet
config-reserved-instrument = `{ $id }` ist für Rechenkanäle reserviert; das Messgerät umbenennen
config-no-destination = kein [[destination]] mit der ID `{ $id }`
config-agent-name = `agent.name` darf nicht leer sein
config-agent-poll-interval = `agent.poll_interval` muss zwischen 100ms und 1h liegen, angegeben: { $got }
config-agent-quota-both = entweder `agent.disk_quota` oder `agent.disk_quota_mb` angeben, nicht beides
config-agent-quota-mb-too-large = `agent.disk_quota_mb` ist zu groß
config-agent-quota-too-small = das Speicherkontingent muss mindestens 16 MiB betragen, angegeben: { $got } Bytes
config-agent-keep-unsynced = `agent.keep_unsynced` muss mindestens 14d sein, angegeben: { $got }
config-agent-block-samples = `agent.block_samples` muss 16..65536 sein, angegeben: { $got }
