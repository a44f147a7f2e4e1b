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

## Durations in mails
mail-span-h-min = { $h } h { $min } min
mail-span-min-s = { $min } min { $s } s
mail-span-s = { $s } s

## Agent offline / back online (the cloud's own alarms)
mail-offline-subject = Meterdeck: agent { $name } is offline
mail-offline-what = Agent { $name } ({ $id }) of account { $account } has not been heard from since { $since } ({ $silent }; the account's limit is { $limit }).
mail-offline-then = Its connection to the cloud ended or it stopped sending. It keeps measuring and buffering locally if it still runs: check its power, its network and the meterdeck-agent service. You get another mail when it is back.
mail-online-subject = Meterdeck: agent { $name } is back online
mail-online-what = Agent { $name } ({ $id }) of account { $account } is back online ({ $at }).
mail-online-what-after = Agent { $name } ({ $id }) of account { $account } is back online after { $offline } offline ({ $at }).
mail-online-then = What it measured meanwhile reaches the cloud by itself from its local buffer.

## Licence reminders and storage notices
mail-days-left = { $n } days left.
mail-licence-ends-subject = Meterdeck: the { $plan } licence of account { $account } ends on { $end }
mail-licence-ends = The { $plan } licence of account { $account } ends on { $end }. After it the account falls back to Free: 5 GB of storage, 3 users, 1 measurement group, data kept one year. Apply a licence card before then to keep the plan.
mail-licence-ended-subject = Meterdeck: the { $plan } licence of account { $account } has ended
mail-licence-ended = The { $plan } licence of account { $account } ended on { $end }; the account is on Free now. Data over Free's 5 GB gets a notice and is deleted 31 days later unless reduced. Apply a licence card to return to { $plan }.
mail-gateway-ends-subject = Meterdeck: the { $plan } licence of gateway { $agent } ends on { $end }
mail-gateway-ends = The { $plan } licence of gateway { $agent } (account { $account }) ends on { $end }. After it the gateway stops sending (it keeps its data locally). Apply a card for it before then.
mail-gateway-ended-subject = Meterdeck: the { $plan } licence of gateway { $agent } has ended
mail-gateway-ended = The { $plan } licence of gateway { $agent } (account { $account }) ended on { $end }: it no longer sends. Apply a card for it by { $resume } to resume; after that its registration is removed (the data it sent stays with the account).
mail-pruned = { $size } ({ $samples } samples in { $parts } parts, from { $from } to { $to }) of { $channels }
mail-old-deleted-subject = Meterdeck: old data of account { $account } was deleted
mail-old-deleted = Deleted data older than { $days } days (the { $plan } plan's retention): { $what }.
mail-over-subject = Meterdeck: account { $account } is over its storage capacity
mail-over = { $used } stored, the { $plan } plan holds { $cap }: the oldest data over it is deleted from { $deadline } unless reduced (export and delete data, or apply a licence card).
mail-over-deleted-subject = Meterdeck: data of account { $account } was deleted (over capacity)
mail-over-deleted = Over the { $plan } plan's { $cap } since { $since }: deleted { $what }.
## View-only link under an alarm mail (valid 30 minutes, no sign-in)
mail-view-link = View (valid 30 min): { $url }
## Cloud alarms: reminders until acknowledged
mail-reminder-subject = Reminder { $n }: { $subject }
mail-reminder-what = Not acknowledged yet (raised { $since }).
mail-alarm-ack-hint = You are reminded every { $every } min until someone acknowledges it on the Alarms page of the portal or the Cloud screen of the app.
