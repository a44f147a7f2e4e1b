### Meterdeck cloud: mails.

mail-signature = Meterdeck
