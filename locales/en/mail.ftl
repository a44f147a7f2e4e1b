### Meterdeck cloud: mails. Each line of a mail is one message; the code
### joins them with blank lines as the English text shows.

## Login code (second factor by email)
mail-login-code-subject = Your Meterdeck login code
mail-login-code-line = Your Meterdeck login code for { $who } is { $code }
mail-login-code-valid = It is valid for 10 minutes. If you did not try to log in, change your password.

## Password reset link
mail-reset-subject = Reset your Meterdeck password
mail-reset-asked = Someone asked to reset the Meterdeck password of { $who }.
mail-reset-here = Set a new password here (valid 30 minutes, once):
mail-reset-not-you = If it was not you, ignore this mail.

## Invitation with a temporary password
mail-invite-subject = You are invited to Meterdeck ({ $account })
mail-invite-made = { $by } has made you a Meterdeck user ({ $role }).
mail-invite-sign-in = Sign in at { $url } with
# The three labels are followed by the value, aligned in the mail.
mail-invite-account = account:
mail-invite-user = user:
mail-invite-password = password:
mail-invite-temporary = This password is temporary: you choose your own at the first sign-in.
mail-invite-unexpected = If you did not expect this mail, ignore it.

## Sync traffic notices to the account's admins
mail-traffic-subject = Meterdeck: agent { $name } has used { $percent } % of its monthly traffic
mail-traffic-full = Gateway { $name } ({ $id }) of account { $account } has sent its whole monthly sync traffic allowance ({ $allowance }).
mail-traffic-full-then = It stops sending and keeps buffering its data locally, nothing is lost: it sends again when the next month (UTC) begins, or after a Remote Pro card is applied (or its plan changed to Remote Pro).
mail-traffic-near = Agent { $name } ({ $id }) of account { $account } has sent { $used } of its { $allowance } monthly sync traffic allowance ({ $percent } %).
mail-traffic-near-then = Sync goes on; nothing is lost. To stay within the allowance, make the agent send less often (`send_interval` in its [cloud] section) or record fewer channels, or change the gateway's plan to Remote Pro.

## View-only link under an alarm mail (valid 30 minutes, no sign-in)
mail-view-link = View (valid 30 min): { $url }
