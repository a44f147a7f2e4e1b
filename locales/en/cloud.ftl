# The cloud service's error answers (`error` of the API's JSON), in the
# language of the request's Accept-Language. English reads exactly as the
# code's own message (the cloud's tests check it).

## Plan limits
cloud-limit-count = the { $plan } plan allows { $max } { $noun } and account { $account } has { $count }; nothing was created: { $lift }
cloud-limit-count-lift = apply a { $plan } licence card (it allows { $max }) or remove one first
cloud-limit-count-remove = remove one first
cloud-limit-noun-users = users
cloud-limit-noun-teams = teams
cloud-limit-noun-agents = agents
cloud-limit-noun-groups = measurement groups
cloud-limit-panels = the { $plan } plan allows { $max } dashboard panels per agent; agent { $agent } of account { $account } is on { $before } and the change asks for { $after }; nothing was saved: { $lift }
cloud-limit-panels-lift = remove some, or apply a { $plan } licence card (it allows { $max })
cloud-limit-panels-remove = remove some first
cloud-limit-feature = { $what } need the Pro plan; account { $account } is on { $plan }: apply a Pro licence card, or change the plan to Pro, to use it
cloud-limit-feature-web-api = Web API tokens
cloud-limit-feature-ip-restriction = IP allow-lists
cloud-limit-feature-csv-import = CSV imports
cloud-limit-storage = the { $plan } plan allows { $max } bytes of storage and account { $account } uses { $used }; this file of { $size } bytes would go over it, so nothing was stored: delete data or apply a licence card with more storage

## Sign-in: sessions, tokens, throttling, passwords
cloud-bearer-malformed = the Authorization header must be `Bearer <token>` with a token starting mds_ (login) or mdt_ (API token)
cloud-bearer-unknown = the token is not valid (logged out, revoked or never issued); log in again
cloud-bearer-expired = the session expired after 24 hours without activity; log in again
cloud-bearer-pending-expired = the login was not finished within 15 minutes; log in again
cloud-throttle-user-ip = too many failed logins for this user from your address ({ $n } within 15 minutes); wait 15 minutes or reset the password
cloud-throttle-ip = too many failed logins from your address ({ $n } within 15 minutes); wait 15 minutes
cloud-throttle-user = too many failed logins for this user from many addresses ({ $n } within 15 minutes); wait 15 minutes or reset the password
cloud-throttle-reset = too many reset requests for this user; wait 15 minutes and use the newest mail
cloud-password-too-long = the password is too long ({ $chars } characters; at most { $max })
cloud-password-needs = the password needs { $what }
cloud-password-needs-length = at least { $min } characters (it has { $chars })
cloud-password-needs-digit = a digit
cloud-password-needs-upper = an upper-case letter
cloud-password-needs-lower = a lower-case letter
cloud-list-comma = { $a }, { $b }
cloud-list-and = { $a } and { $b }

## Refusals of the API (sign-in, roles, data, files, ...)
cloud-account-token-name-must = the token name must have 1 to 100 characters
cloud-account-at-most-200 = at most 200 entries in the IP allow-list
cloud-account-password-wrong-account = the password is wrong; the account was not deleted
cloud-caller-cookie-invalid = the session cookie is not valid; sign in again
cloud-caller-authorization-header-ascii = the Authorization header is not ASCII
cloud-caller-token-gone = the token's user or account no longer exists; log in again
cloud-caller-password-was-reset = your password was reset to a temporary one: log in with it and change it (POST /api/v1/password)
cloud-caller-change-temporary-password = change your temporary password first: POST /api/v1/password with current and new
cloud-login-code-first = give your second-factor code first: POST /api/v1/login/code
cloud-caller-log-in-first = log in first: send Authorization: Bearer <token> (POST /api/v1/login gives one)
cloud-caller-agent-wrong = the agent id or secret is wrong (HTTP Basic agent_id:agent_secret)
cloud-export-channel-ids-give = no channel ids: give them separated by commas, e.g. /channels/3,7/zip
cloud-files-agents-only-basic = uploads are made by agents: send HTTP Basic agent_id:agent_secret (the agent's cloud login)
cloud-files-agents-only-token = uploads are made by agents with HTTP Basic agent_id:agent_secret, not with a user's token
cloud-files-disk = the service could not write or read its files directory; try again later
cloud-invite-invitation-mailed-give = an invitation is mailed: give the user's email address, or create the user without `invite`
cloud-invite-no-mail = this server cannot send mail (serve --smtp is not set), so it cannot invite by email; create the user without `invite` and hand over the temporary password yourself
cloud-licence-log-authorization-bearer = log in first (Authorization: Bearer <token>), or as an agent with HTTP Basic agent_id:agent_secret
cloud-licence-card-code-has = a card code has at most 100 characters
cloud-login-too-long = account, user or password is too long
cloud-login-wrong = wrong account, user or password
cloud-login-no-mail-codes = this server cannot send mail, so email login codes cannot work; ask an admin to switch your second factor
cloud-login-second-factor-email = your second factor is an email code but you have no email address; ask an admin
cloud-login-login-code-could = the login code could not be sent by email; try again later or ask an admin
cloud-login-api-tokens-need = API tokens need no login code
cloud-login-this-session-waiting = this session is not waiting for a code
cloud-login-wrong-expired-code = wrong or expired code; codes by email are valid 10 minutes (log in again for a new one)
cloud-login-api-token-logged = an API token is not logged in; revoke it with DELETE /api/v1/tokens/{"{"}id{"}"}
cloud-login-change-password-after = change the password after logging in, not with an API token
cloud-login-current-password-wrong = the current password is wrong
cloud-login-new-password-must = the new password must differ from the current one
cloud-login-no-mail-reset = this server cannot send mail; ask an admin of your account for a temporary password
cloud-login-reset-link-invalid = the reset link is invalid, already used or expired (links are valid 30 minutes); ask for a new one
cloud-login-totp-set-up = an authenticator app is already set up; an admin can switch your second factor to none to set up a new one
cloud-login-set-up-authenticator = set up the authenticator first: POST /api/v1/me/totp
cloud-login-totp-on = the authenticator app is already on
cloud-login-totp-mismatch = the code does not match; check the app's clock and try the current code
cloud-internal-panic = the service hit an internal error; it was logged, try again or report it
cloud-remote-session-only = remote commands need a signed-in user's session (log in), not an API token
cloud-remote-no-broker = this service sends no remote commands (no broker connection)
cloud-users-one-admin = the account needs at least one admin; make someone else admin first
cloud-users-authenticator-app-set = the authenticator app is set up by the user (POST /api/v1/me/totp); an admin can set none or email
cloud-users-no-email = the user has no email address for codes; set one first
cloud-users-email-needed = the user gets login codes by email, so the email address cannot be empty; switch the second factor first
cloud-users-last-admin = this is the account's last admin; to close the account use DELETE /api/v1/account
cloud-view-agents-only-basic = view links are asked for by agents: send HTTP Basic agent_id:agent_secret (the agent's cloud login)
cloud-view-agents-only-token = view links are asked for by agents with HTTP Basic agent_id:agent_secret, not with a user's token

## Roles, not found, data browse, alarms, remote commands, files, users, links
cloud-caller-ip-refused = your address { $ip } is not in the IP allow-list of account { $account }; ask its admin to add it
cloud-caller-csrf = refused: a { $method } signed in by the session cookie must carry the { $header } header (the value of the { $cookie } cookie); reload the page and try again
cloud-role-admin-only = only an admin of the account can { $what }; your role is { $role }
cloud-role-viewer = a viewer cannot { $what }; ask an admin for the member role
cloud-agent-not-found = agent { $id } not found
cloud-channel-not-found = channel { $id } not found
cloud-remote-offline = agent { $name } ({ $id }) is offline (or has never connected): it cannot receive commands until it connects
cloud-remote-timeout = { $error }: it may be offline or busy; the command expires unanswered
cloud-records-kind = kind={ $kind } is not a record kind; use journal, event, cloud_alarm or remote_command (comma-separated)
cloud-from-before-to = from ({ $from }) must be before to ({ $to })
cloud-limit-range = limit must be 1 to { $max }
cloud-cursor = after={ $after } is not a page cursor; pass the `next` of the previous page
cloud-comment-long = comment is longer than { $max } characters
cloud-alarm-not-synced = alarm { $alarm } not found: agent { $agent } has synced no such alarm
cloud-alarm-no-ack-needed = alarm { $alarm } needs no acknowledgement: its state is { $state }
cloud-alarm-acked-pending = alarm { $alarm } was acknowledged in the cloud by { $user } already; that acknowledgement is on its way to the agent
cloud-offline-after = offline_after_s must be { $min } to { $max } seconds, not { $value }
cloud-cloud-alarm-not-found = cloud alarm { $id } not found
cloud-cloud-alarm-acked = cloud alarm { $id } was acknowledged already (by { $by })
cloud-agent-deleted-broker = agent { $id } was deleted but the broker could not be updated yet ({ $error }); it will be when the broker is reachable
cloud-time-unreadable = { $what }={ $value } is neither milliseconds since 1970 nor an ISO-8601 time like 2026-01-31T12:00:00Z
cloud-time-years = { $what }={ $value } is outside the years 0 to 9999
cloud-channel-id-nan = channel id { $id } is not a number
cloud-buckets-range = buckets must be 1 to { $max }
cloud-link-altered = this view link was changed or is not a Meterdeck link; open the link from the alarm message as it was sent
cloud-link-expired = this view link expired at { $at } (links work for 30 minutes); ask for the alarm's data in the portal or wait for the next message
cloud-link-channels = channels must name 1 to { $max } channels of the alarm, not { $count }
cloud-agent-channel-not-found = channel { $id } of agent { $agent } not found
cloud-link-channel-path = channel { $channel } is not an instrument/channel path of the agent (or a cloud channel id)
cloud-link-agent-deleted = the agent of this link was deleted, and its data with it
cloud-link-window = from ({ $from }) must be before to ({ $to }), both inside the link's window [{ $start }, { $end })
cloud-link-other-channel = channel { $channel } is not one of this link's; a view link shows only its alarm's channels
cloud-export-channels = { $count } channels asked for; one export holds at most { $max }
cloud-export-rows = the range holds { $rows } samples of these channels; one export holds at most { $max }: export a shorter range or fewer channels
cloud-token-not-found = token { $id } not found
cloud-ip-allow-lockout = the list would lock you out: your address { $ip } is not in it
cloud-log-offset = offset must be 0 to { $max }; narrow the time range instead
cloud-email-invalid = { $email } is not an email address
cloud-user-exists = user { $id } already exists
cloud-user-not-found = user { $id } not found
cloud-upload-not-found = upload { $id } not found; announce the file again (POST /api/v1/files/uploads)
cloud-files-limit = limit must be 1..{ $max }
cloud-file-not-found = file { $id } not found
cloud-prefs-language = language must be one of { $languages }, not { $language }
cloud-prefs-zone = zone { $zone } is not an IANA time zone (like Asia/Tokyo, Europe/Berlin or UTC)
cloud-plan-unknown = plan { $plan } is not standard or pro
cloud-remote-plan-unknown = Remote plan { $plan } is not basic or pro
cloud-no-endpoint = no such endpoint: { $path }; see /api/v1/openapi.json
cloud-method-not-allowed = { $method } is not allowed on { $path }; see /api/v1/openapi.json
cloud-invite-mail-failed = the invitation could not be mailed to { $email }: { $error }; the user was not created, try again later
cloud-bad-path = bad path: { $error }
cloud-bad-query = bad query: { $error }

cloud-board-not-found = board { $id } not found
cloud-board-max-panels = panels: a board holds at most { $max } panels

## Names and ids of users, teams, groups; licence cards; request bodies
cloud-kind-user = user
cloud-kind-team = team
cloud-kind-group = group
cloud-kind-agent = agent
cloud-name-length = the { $kind } name must have 1 to 100 characters
cloud-unknown-in-account = { $kind } { $id } does not exist in this account
cloud-kind-exists = { $kind } { $id } already exists
cloud-kind-not-found = { $kind } { $id } not found
cloud-licence-no-account = account { $account } does not exist
cloud-licence-card-unknown = no card with this code for this account; check the code (letters and digits as printed)
cloud-licence-card-used = this card was applied on { $at }; a card works once
cloud-json-content-type = the body must be JSON with the header Content-Type: application/json
cloud-json-syntax = the body is not valid JSON (or not UTF-8): { $error }
cloud-json-data = the JSON does not fit this endpoint: { $error }
cloud-json-too-large = the body is larger than { $max } bytes

## What a role refusal says the caller cannot do (api/caller.rs `action`)
cloud-do-acknowledge-alarms = acknowledge alarms
cloud-do-apply-licence-cards = apply licence cards
cloud-do-change-dashboard-boards = change dashboard boards
cloud-do-change-measurement-groups = change measurement groups
cloud-do-change-teams = change teams
cloud-do-change-the-alarm-destinations = change the alarm destinations
cloud-do-change-the-offline-alarm-setting = change the offline alarm setting
cloud-do-change-the-plan = change the plan
cloud-do-change-users = change users
cloud-do-create-api-tokens = create API tokens
cloud-do-create-dashboard-boards = create dashboard boards
cloud-do-create-measurement-groups = create measurement groups
cloud-do-create-teams = create teams
cloud-do-create-users = create users
cloud-do-delete-agents = delete agents
cloud-do-delete-dashboard-boards = delete dashboard boards
cloud-do-delete-measurement-groups = delete measurement groups
cloud-do-delete-teams = delete teams
cloud-do-delete-the-account = delete the account
cloud-do-delete-users = delete users
cloud-do-give-agents-new-secrets = give agents new secrets
cloud-do-give-users-temporary-passwords = give users temporary passwords
cloud-do-import-dashboard-boards = import dashboard boards
cloud-do-list-users = list users
cloud-do-read-the-access-log = read the access log
cloud-do-read-the-alarm-destinations = read the alarm destinations
cloud-do-register-agents = register agents
cloud-do-reorder-dashboard-boards = reorder dashboard boards
cloud-do-revoke-api-tokens = revoke API tokens
cloud-do-send-commands-to-an-agent = send commands to an agent
cloud-do-set-the-ip-allow-list = set the IP allow-list
cloud-do-console-remotely = console remotely
cloud-do-start-remotely = start remotely
cloud-do-stop-remotely = stop remotely
cloud-do-fast-monitor-remotely = fast monitor remotely
cloud-do-poll-interval-remotely = poll interval remotely
cloud-do-add-instrument-remotely = add instrument remotely
cloud-do-edit-instrument-remotely = edit instrument remotely
cloud-do-remove-instrument-remotely = remove instrument remotely
