### Meterdeck cloud: mails (German).

## Login code (second factor by email)
mail-login-code-subject = Ihr Meterdeck-Anmeldecode
mail-login-code-line = Ihr Meterdeck-Anmeldecode für { $who } lautet { $code }
mail-login-code-valid = Er ist 10 Minuten gültig. Wenn Sie sich nicht anmelden wollten, ändern Sie Ihr Passwort.

## Password reset link
mail-reset-subject = Meterdeck-Passwort zurücksetzen
mail-reset-asked = Jemand hat das Zurücksetzen des Meterdeck-Passworts von { $who } angefordert.
mail-reset-here = Legen Sie hier ein neues Passwort fest (30 Minuten gültig, einmalig):
mail-reset-not-you = Wenn Sie das nicht waren, ignorieren Sie diese E-Mail.

## Invitation with a temporary password
mail-invite-subject = Einladung zu Meterdeck ({ $account })
mail-invite-made = { $by } hat Sie als Meterdeck-Benutzer ({ $role }) angelegt.
mail-invite-sign-in = Melden Sie sich unter { $url } an mit
mail-invite-account = Konto:
mail-invite-user = Benutzer:
mail-invite-password = Passwort:
mail-invite-temporary = Dieses Passwort ist vorläufig: Bei der ersten Anmeldung wählen Sie ein eigenes.
mail-invite-unexpected = Wenn Sie diese E-Mail nicht erwartet haben, ignorieren Sie sie.

## Sync traffic notices to the account's admins
mail-traffic-subject = Meterdeck: Agent { $name } hat { $percent } % seines monatlichen Datenvolumens verbraucht
mail-traffic-full = Das Gateway { $name } ({ $id }) des Kontos { $account } hat sein ganzes monatliches Synchronisierungsvolumen ({ $allowance }) gesendet.
mail-traffic-full-then = Es stellt das Senden ein und puffert seine Daten weiter lokal, nichts geht verloren: Es sendet wieder, wenn der nächste Monat (UTC) beginnt oder nachdem eine Remote-Pro-Karte angewendet (oder sein Tarif auf Remote Pro geändert) wurde.
mail-traffic-near = Der Agent { $name } ({ $id }) des Kontos { $account } hat { $used } seines monatlichen Synchronisierungsvolumens von { $allowance } gesendet ({ $percent } %).
mail-traffic-near-then = Die Synchronisierung läuft weiter; nichts geht verloren. Um im Volumen zu bleiben, lassen Sie den Agenten seltener senden (`send_interval` in seinem Abschnitt [cloud]), zeichnen Sie weniger Kanäle auf oder ändern Sie den Tarif des Gateways auf Remote Pro.

## Link zum Ansehen unter einer Alarm-Mail (30 Minuten gültig, ohne Anmeldung)
mail-view-link = Ansehen (30 Min. gültig): { $url }
