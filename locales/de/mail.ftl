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

## Durations in mails
mail-span-h-min = { $h } h { $min } min
mail-span-min-s = { $min } min { $s } s
mail-span-s = { $s } s

## Agent offline / back online (the cloud's own alarms)
mail-offline-subject = Meterdeck: Agent { $name } ist offline
mail-offline-what = Von Agent { $name } ({ $id }) des Kontos { $account } kam seit { $since } nichts mehr ({ $silent }; die Grenze des Kontos ist { $limit }).
mail-offline-then = Seine Verbindung zur Cloud endete oder er sendet nicht mehr. Wenn er noch läuft, misst er weiter und puffert lokal: Prüfen Sie Stromversorgung, Netzwerk und den Dienst meterdeck-agent. Sie erhalten eine weitere Mail, wenn er zurück ist.
mail-online-subject = Meterdeck: Agent { $name } ist wieder online
mail-online-what = Agent { $name } ({ $id }) des Kontos { $account } ist wieder online ({ $at }).
mail-online-what-after = Agent { $name } ({ $id }) des Kontos { $account } ist nach { $offline } offline wieder online ({ $at }).
mail-online-then = Was er inzwischen gemessen hat, erreicht die Cloud von selbst aus seinem lokalen Puffer.

## Licence reminders and storage notices
mail-days-left = Noch { $n } Tage.
mail-licence-ends-subject = Meterdeck: Die { $plan }-Lizenz des Kontos { $account } endet am { $end }
mail-licence-ends = Die { $plan }-Lizenz des Kontos { $account } endet am { $end }. Danach fällt das Konto auf Free zurück: 5 GB Speicher, 3 Benutzer, 1 Messgruppe, Daten ein Jahr lang aufbewahrt. Wenden Sie vorher eine Lizenzkarte an, um den Plan zu behalten.
mail-licence-ended-subject = Meterdeck: Die { $plan }-Lizenz des Kontos { $account } ist abgelaufen
mail-licence-ended = Die { $plan }-Lizenz des Kontos { $account } ist am { $end } abgelaufen; das Konto ist jetzt auf Free. Daten über die 5 GB von Free hinaus erhalten einen Hinweis und werden 31 Tage später gelöscht, wenn sie nicht verringert werden. Wenden Sie eine Lizenzkarte an, um zu { $plan } zurückzukehren.
mail-gateway-ends-subject = Meterdeck: Die { $plan }-Lizenz des Gateways { $agent } endet am { $end }
mail-gateway-ends = Die { $plan }-Lizenz des Gateways { $agent } (Konto { $account }) endet am { $end }. Danach sendet das Gateway nicht mehr (seine Daten behält es lokal). Wenden Sie vorher eine Karte dafür an.
mail-gateway-ended-subject = Meterdeck: Die { $plan }-Lizenz des Gateways { $agent } ist abgelaufen
mail-gateway-ended = Die { $plan }-Lizenz des Gateways { $agent } (Konto { $account }) ist am { $end } abgelaufen: Es sendet nicht mehr. Wenden Sie bis { $resume } eine Karte dafür an, um fortzufahren; danach wird seine Registrierung entfernt (die gesendeten Daten bleiben beim Konto).
mail-pruned = { $size } ({ $samples } Messwerte in { $parts } Teilen, von { $from } bis { $to }) von { $channels }
mail-old-deleted-subject = Meterdeck: Alte Daten des Kontos { $account } wurden gelöscht
mail-old-deleted = Gelöscht wurden Daten älter als { $days } Tage (Aufbewahrung des Plans { $plan }): { $what }.
mail-over-subject = Meterdeck: Konto { $account } überschreitet seine Speicherkapazität
mail-over = { $used } gespeichert, der Plan { $plan } fasst { $cap }: Die ältesten Daten darüber werden ab { $deadline } gelöscht, wenn sie nicht verringert werden (Daten exportieren und löschen oder eine Lizenzkarte anwenden).
mail-over-deleted-subject = Meterdeck: Daten des Kontos { $account } wurden gelöscht (Kapazität überschritten)
mail-over-deleted = Über den { $cap } des Plans { $plan } seit { $since }: gelöscht { $what }.
## Link zum Ansehen unter einer Alarm-Mail (30 Minuten gültig, ohne Anmeldung)
mail-view-link = Ansehen (30 Min. gültig): { $url }
## Cloud-Alarme: Erinnerungen bis zur Quittierung
mail-reminder-subject = Erinnerung { $n }: { $subject }
mail-reminder-what = Noch nicht quittiert (ausgelöst { $since }).
mail-alarm-ack-hint = Sie werden alle { $every } min erinnert, bis jemand den Alarm auf der Seite Alarme des Portals oder im Cloud-Bildschirm der App quittiert.
