# The cloud service's error answers (`error` of the API's JSON), in the
# language of the request's Accept-Language (German).

## Plan limits
cloud-limit-count = Der Tarif { $plan } erlaubt { $max } { $noun }, und das Konto { $account } hat { $count }; nichts wurde angelegt: { $lift }
cloud-limit-count-lift = Wenden Sie eine { $plan }-Lizenzkarte an (sie erlaubt { $max }) oder entfernen Sie zuerst einen Eintrag
cloud-limit-count-remove = Entfernen Sie zuerst einen Eintrag
cloud-limit-noun-users = Benutzer
cloud-limit-noun-teams = Teams
cloud-limit-noun-agents = Agenten
cloud-limit-noun-groups = Messgruppen
cloud-limit-panels = Der Tarif { $plan } erlaubt { $max } Dashboard-Felder pro Agent; für den Agenten { $agent } des Kontos { $account } sind es { $before }, die Änderung verlangt { $after }; nichts wurde gespeichert: { $lift }
cloud-limit-panels-lift = Entfernen Sie einige oder wenden Sie eine { $plan }-Lizenzkarte an (sie erlaubt { $max })
cloud-limit-panels-remove = Entfernen Sie zuerst einige
cloud-limit-feature = Für { $what } ist der Tarif Pro nötig; das Konto { $account } hat den Tarif { $plan }: Wenden Sie eine Pro-Lizenzkarte an oder wechseln Sie zum Tarif Pro, um sie zu nutzen
cloud-limit-feature-web-api = Web-API-Tokens
cloud-limit-feature-ip-restriction = IP-Freigabelisten
cloud-limit-feature-csv-import = CSV-Importe
cloud-limit-storage = Der Tarif { $plan } erlaubt { $max } Byte Speicher, und das Konto { $account } belegt { $used }; diese Datei mit { $size } Byte würde das überschreiten, daher wurde nichts gespeichert: Löschen Sie Daten oder wenden Sie eine Lizenzkarte mit mehr Speicher an

## Sign-in: sessions, tokens, throttling, passwords
cloud-bearer-malformed = Der Authorization-Header muss `Bearer <token>` lauten, mit einem Token, das mit mds_ (Anmeldung) oder mdt_ (API-Token) beginnt
cloud-bearer-unknown = Das Token ist nicht gültig (abgemeldet, widerrufen oder nie ausgestellt); melden Sie sich erneut an
cloud-bearer-expired = Die Sitzung ist nach 24 Stunden ohne Aktivität abgelaufen; melden Sie sich erneut an
cloud-bearer-pending-expired = Die Anmeldung wurde nicht innerhalb von 15 Minuten abgeschlossen; melden Sie sich erneut an
cloud-throttle-user-ip = Zu viele fehlgeschlagene Anmeldungen für diesen Benutzer von Ihrer Adresse ({ $n } innerhalb von 15 Minuten); warten Sie 15 Minuten oder setzen Sie das Passwort zurück
cloud-throttle-ip = Zu viele fehlgeschlagene Anmeldungen von Ihrer Adresse ({ $n } innerhalb von 15 Minuten); warten Sie 15 Minuten
cloud-throttle-user = Zu viele fehlgeschlagene Anmeldungen für diesen Benutzer von vielen Adressen ({ $n } innerhalb von 15 Minuten); warten Sie 15 Minuten oder setzen Sie das Passwort zurück
cloud-throttle-reset = Zu viele Anfragen zum Zurücksetzen für diesen Benutzer; warten Sie 15 Minuten und verwenden Sie die neueste E-Mail
cloud-password-too-long = Das Passwort ist zu lang ({ $chars } Zeichen; höchstens { $max })
cloud-password-needs = Das Passwort braucht { $what }
cloud-password-needs-length = mindestens { $min } Zeichen (es hat { $chars })
cloud-password-needs-digit = eine Ziffer
cloud-password-needs-upper = einen Großbuchstaben
cloud-password-needs-lower = einen Kleinbuchstaben
cloud-list-comma = { $a }, { $b }
cloud-list-and = { $a } und { $b }

## Refusals of the API (sign-in, roles, data, files, ...)
cloud-account-token-name-must = Der Token-Name muss 1 bis 100 Zeichen haben
cloud-account-at-most-200 = Höchstens 200 Einträge in der IP-Freigabeliste
cloud-account-password-wrong-account = Das Passwort ist falsch; das Konto wurde nicht gelöscht
cloud-caller-cookie-invalid = Das Sitzungs-Cookie ist nicht gültig; melden Sie sich erneut an
cloud-caller-authorization-header-ascii = Der Authorization-Header ist kein ASCII
cloud-caller-token-gone = Der Benutzer oder das Konto des Tokens existiert nicht mehr; melden Sie sich erneut an
cloud-caller-password-was-reset = Ihr Passwort wurde auf ein vorläufiges zurückgesetzt: Melden Sie sich damit an und ändern Sie es (POST /api/v1/password)
cloud-caller-change-temporary-password = Ändern Sie zuerst Ihr vorläufiges Passwort: POST /api/v1/password mit current und new
cloud-login-code-first = Geben Sie zuerst den Code Ihres zweiten Faktors ein: POST /api/v1/login/code
cloud-caller-log-in-first = Melden Sie sich zuerst an: Senden Sie Authorization: Bearer <token> (POST /api/v1/login liefert eines)
cloud-caller-agent-wrong = Die Agenten-ID oder das Geheimnis ist falsch (HTTP Basic agent_id:agent_secret)
cloud-export-channel-ids-give = Keine Kanal-IDs: Geben Sie sie durch Kommas getrennt an, z. B. /channels/3,7/zip
cloud-files-agents-only-basic = Uploads kommen von Agenten: Senden Sie HTTP Basic agent_id:agent_secret (die Cloud-Anmeldung des Agenten)
cloud-files-agents-only-token = Uploads kommen von Agenten mit HTTP Basic agent_id:agent_secret, nicht mit dem Token eines Benutzers
cloud-files-disk = Der Dienst konnte sein Dateiverzeichnis nicht schreiben oder lesen; versuchen Sie es später erneut
cloud-invite-invitation-mailed-give = Eine Einladung wird per E-Mail verschickt: Geben Sie die E-Mail-Adresse des Benutzers an oder legen Sie den Benutzer ohne `invite` an
cloud-invite-no-mail = Dieser Server kann keine E-Mails senden (serve --smtp ist nicht gesetzt) und daher nicht per E-Mail einladen; legen Sie den Benutzer ohne `invite` an und übergeben Sie das vorläufige Passwort selbst
cloud-licence-log-authorization-bearer = Melden Sie sich zuerst an (Authorization: Bearer <token>) oder als Agent mit HTTP Basic agent_id:agent_secret
cloud-licence-card-code-has = Ein Kartencode hat höchstens 100 Zeichen
cloud-login-too-long = Konto, Benutzer oder Passwort ist zu lang
cloud-login-wrong = Konto, Benutzer oder Passwort ist falsch
cloud-login-no-mail-codes = Dieser Server kann keine E-Mails senden, daher funktionieren Anmeldecodes per E-Mail nicht; bitten Sie einen Administrator, Ihren zweiten Faktor umzustellen
cloud-login-second-factor-email = Ihr zweiter Faktor ist ein Code per E-Mail, aber Sie haben keine E-Mail-Adresse; wenden Sie sich an einen Administrator
cloud-login-login-code-could = Der Anmeldecode konnte nicht per E-Mail gesendet werden; versuchen Sie es später erneut oder wenden Sie sich an einen Administrator
cloud-login-api-tokens-need = API-Tokens brauchen keinen Anmeldecode
cloud-login-this-session-waiting = Diese Sitzung wartet auf keinen Code
cloud-login-wrong-expired-code = Falscher oder abgelaufener Code; Codes per E-Mail sind 10 Minuten gültig (melden Sie sich für einen neuen erneut an)
cloud-login-api-token-logged = Ein API-Token ist nicht angemeldet; widerrufen Sie es mit DELETE /api/v1/tokens/{"{"}id{"}"}
cloud-login-change-password-after = Ändern Sie das Passwort nach der Anmeldung, nicht mit einem API-Token
cloud-login-current-password-wrong = Das aktuelle Passwort ist falsch
cloud-login-new-password-must = Das neue Passwort muss sich vom aktuellen unterscheiden
cloud-login-no-mail-reset = Dieser Server kann keine E-Mails senden; bitten Sie einen Administrator Ihres Kontos um ein vorläufiges Passwort
cloud-login-reset-link-invalid = Der Link zum Zurücksetzen ist ungültig, bereits verwendet oder abgelaufen (Links sind 30 Minuten gültig); fordern Sie einen neuen an
cloud-login-totp-set-up = Eine Authenticator-App ist bereits eingerichtet; ein Administrator kann Ihren zweiten Faktor auf „keiner“ stellen, damit Sie eine neue einrichten können
cloud-login-set-up-authenticator = Richten Sie zuerst den Authenticator ein: POST /api/v1/me/totp
cloud-login-totp-on = Die Authenticator-App ist bereits aktiv
cloud-login-totp-mismatch = Der Code stimmt nicht; prüfen Sie die Uhr der App und versuchen Sie den aktuellen Code
cloud-internal-panic = Der Dienst hatte einen internen Fehler; er wurde protokolliert, versuchen Sie es erneut oder melden Sie ihn
cloud-remote-session-only = Fernbefehle brauchen die Sitzung eines angemeldeten Benutzers (melden Sie sich an), kein API-Token
cloud-remote-no-broker = Dieser Dienst sendet keine Fernbefehle (keine Broker-Verbindung)
cloud-users-one-admin = Das Konto braucht mindestens einen Administrator; machen Sie zuerst jemand anderen zum Administrator
cloud-users-authenticator-app-set = Die Authenticator-App richtet der Benutzer selbst ein (POST /api/v1/me/totp); ein Administrator kann „keiner“ oder „E-Mail“ wählen
cloud-users-no-email = Der Benutzer hat keine E-Mail-Adresse für Codes; legen Sie zuerst eine fest
cloud-users-email-needed = Der Benutzer erhält Anmeldecodes per E-Mail, daher darf die E-Mail-Adresse nicht leer sein; stellen Sie zuerst den zweiten Faktor um
cloud-users-last-admin = Dies ist der letzte Administrator des Kontos; um das Konto zu schließen, verwenden Sie DELETE /api/v1/account
cloud-view-agents-only-basic = Ansichtslinks werden von Agenten angefordert: Senden Sie HTTP Basic agent_id:agent_secret (die Cloud-Anmeldung des Agenten)
cloud-view-agents-only-token = Ansichtslinks werden von Agenten mit HTTP Basic agent_id:agent_secret angefordert, nicht mit dem Token eines Benutzers
