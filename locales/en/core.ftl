### Meterdeck engine (core) and desktop app: desktop notifications, alarm mails and webhooks, the tray menu.

## The tray icon's menu
tray-show = Show window
# After "Meterdeck: " in the tooltip and the menu's status line.
tray-none = no instruments configured
tray-quit = Quit

## Alarm notifications (desktop, mail, webhook, the notification centre)
notify-alarm-raise = Alarm: { $name }
notify-alarm-return = Returned to normal: { $name }
notify-alarm-reminder = Reminder, not acknowledged: { $name }
# Body when the rule has no message and no values: the alarm's name and severity.
notify-alarm-body = { $name } ({ $severity })
notify-delivery-failed = Notification to `{ $destination }` failed
notify-sync-traffic-title = Cloud sync traffic
notify-test-title = Meterdeck test notification
notify-test-body = A test from Meterdeck to the destination "{ $name }". If you read this, it works.
notify-view-link = View (valid 30 min): { $url }

## Summaries of a burst of notifications
notify-summary-alarm = { $n } alarm
notify-summary-alarms = { $n } alarms
notify-summary-notification = { $n } notification
notify-summary-notifications = { $n } notifications
notify-summary-more-alarm = { $n } more alarm
notify-summary-more-alarms = { $n } more alarms
notify-summary-more-notification = { $n } more notification
notify-summary-more-notifications = { $n } more notifications
notify-summary-and-more = …and { $n } more

## Facts under a mail's or webhook's text
notify-fact-severity = Severity
notify-fact-alarm = Alarm
notify-fact-time = Time

## Errors that reach the window (English must read as the code's own text)
err-unknown-instrument = no instrument `{ $id }` is configured
err-unknown-channel = no channel with id { $id } is stored
err-console-held = held by { $operator } since { $since }
err-write = cannot write { $path }: { $reason }
err-simulator = cannot start the simulator: { $reason }
err-agent-unknown-instrument = unknown or disabled instrument `{ $id }`
err-agent-not-connected = instrument `{ $id }` is not connected
err-agent-instrument = instrument `{ $id }`: { $reason }
err-agent-stopped = the agent has stopped
err-alarm-unknown = unknown alarm { $id }
err-alarm-not-unacked = alarm { $id } is not unacknowledged (state { $state })
err-alarm-not-shelved = alarm { $id } is not shelved
err-alarm-shelve-past = alarm { $id }: shelve until { $until } is not after now ({ $now })
err-alarm-out-of-service = alarm { $id } is already out of service
err-alarm-in-service = alarm { $id } is already in service
err-alarm-no-user = a user name is required to { $action }
err-no-notification = no notification with id `{ $id }`
err-cloud-not-signed-in = not signed in to a cloud account: sign in first
err-cloud-signed-out = signed out: sign in again
err-cloud-unreachable = cannot reach the cloud service at { $url }: { $reason }
err-cloud-server = the cloud service failed (HTTP { $status }): { $message }

# Desktop service refusals: the errors of the desktop service, the
# instrument configuration, reports, dashboards, export and licences that
# reach the window. English reads exactly as the code's Display text.

## Desktop service refusals (the window shows them where the user acted)
err-desk-create = cannot create { $path }: { $reason }
err-desk-read = cannot read { $path }: { $reason }
err-desk-demo-history = writing the demo history: { $reason }
err-desk-unexpected-reply = unexpected reply { $reply }
err-desk-no-alarm-rule = no alarm rule `{ $id }`
err-desk-no-calc = no calculation channel `{ $id }`
err-desk-no-destination = no destination `{ $id }`
err-empty-range = empty time range: from { $from } is not before to { $to }
err-desk-too-many-shown = at most { $max } channels can be shown at once, { $n } were chosen
err-desk-plot-width = plot width must be 1..{ $max } pixels, got { $got }
err-desk-too-many-listed = at most { $max } channels can be listed at once
err-desk-row-limit = row limit must be 1..{ $max }, got { $got }
err-desk-no-licence-key = no licence key is pinned: sign in to the cloud service first
err-desk-report-not-generated = the report was not generated
err-desk-report-vanished = report run { $run } vanished
err-desk-no-report-run = no report run { $run }
err-desk-report-no-pdf = report run { $run } has no PDF (it failed, or its file was removed)
err-desk-pdf-path = save path `{ $path }` must be absolute and end in .pdf
err-desk-no-folder = folder { $path } does not exist
err-desk-no-operator = enter an operator name before using the console
err-desk-unknown-control = unknown control command `{ $name }` (one of start, stop, restart, set-clock)
err-desk-control-held = { $action } refused: the console of `{ $instrument }` is held by { $holder } since { $since }; enter that operator name, or release the console first
err-action-start = start measurement
err-action-stop = stop measurement
err-action-restart = restart measurement
err-action-set-clock = set clock
err-action-read-settings = read settings
err-action-push-profile = push profile
err-desk-no-settings = `{ $instrument }` lists no settings to save (add `settings = [...]` to the instrument)
err-desk-in-file = { $path }: { $reason }
err-desk-no-image-path = enter the image file (PNG, JPEG, GIF, WebP or SVG)
err-desk-image-path-absolute = image path `{ $path }` must be absolute (e.g. /home/me/plant.png)
err-desk-no-board-file-export = enter the file to export to (ending in .json)
err-desk-no-board-file-import = enter the file to import from (ending in .json)
err-desk-board-path-absolute = path `{ $path }` must be absolute (e.g. /home/me/board.json)
err-desk-board-path-json = path `{ $path }` must end in .json
err-desk-no-files-section = instrument `{ $instrument }` has no [[files]] section: it serves no files
err-desk-no-upload-cloud = no cloud to upload to: the config needs a [cloud] section with `api`, and the agent's secret in the keychain (meterdeck-agent cloud login)
err-desk-no-local-file = no local file with id { $id }
err-desk-settings-json = settings: { $reason }
err-desk-identify-disabled = instrument `{ $id }` is disabled; enable it to identify it
err-desk-disabled = instrument `{ $id }` is disabled; enable it first
err-desk-hosts = hosts `{ $hosts }`: { $reason }
err-desk-sweep-timeout = timeout must be 1..60000 ms, got { $got }
err-desk-port-zero = port 0 cannot be swept; use 1..65535
err-desk-baud = baud rate must be > 0
err-desk-no-serial-port = choose at least one serial port to probe
err-desk-ble-seconds = a BLE scan lasts 1..120 s, got { $got }
err-desk-no-export-path = enter the file to export to (ending in .csv or .zip)
err-desk-export-absolute = export path `{ $path }` must be absolute (e.g. /home/me/data.zip)
err-desk-export-ext = export path `{ $path }` must end in .csv or .zip
err-desk-event-limit = event limit must be 1..{ $max }, got { $got }
err-desk-event-kind = unknown event kind `{ $kind }` (one of connected, disconnected, error, agent-started, agent-stopped, retention)
err-desk-no-command = enter a command to send
err-desk-internal = internal error: { $reason }
err-desk-toml = cannot write the { $what } as TOML: { $reason }
err-desk-toml-instruments = instrument list
err-desk-toml-calcs = calculation channels
err-desk-toml-alarms = alarm rules
err-desk-toml-destinations = notification destinations
err-desk-toml-files = file sources
err-desk-toml-config = cannot write the configuration as TOML: { $reason }
err-desk-duplicate-id = instrument `{ $id }`: `id` is already used by another instrument; choose another id
err-desk-language = language must be one of `en`, `ja`, `de`, got `{ $got }`
err-desk-theme = theme must be `light` or `dark`, got `{ $got }`
err-desk-time-zone = time zone `{ $tz }` is not an IANA time zone name (for example `Europe/Berlin`, `Asia/Tokyo`, `UTC`)

## Settings profiles of an instrument
err-profile-name = profile name { $name }: use 1-64 letters, digits, `-`, `_` or `.`
err-profile-not-found = instrument `{ $instrument }` has no profile `{ $name }` (saved: { $known })
err-profile-file = profile file { $path }: { $reason }; nothing was saved
err-profile-damaged = the saved profiles of `{ $instrument }` cannot be read ({ $reason })

## Instrument configuration (device-drivers: InstrumentConfig::validate and the family checks)
err-config-empty-id = instrument: `id` must not be empty
err-config-empty-terminator = instrument `{ $id }`: `terminator` must not be empty
err-config-baud = instrument `{ $id }`: `transport.baud` must be > 0
err-config-data-bits = instrument `{ $id }`: `transport.data_bits` must be 5..8, got { $got }
err-config-stop-bits = instrument `{ $id }`: `transport.stop_bits` must be 1 or 2, got { $got }
err-config-poll-interval = instrument `{ $id }`: `poll_interval` must be between 100ms and 1h, got { $got }
err-config-timeout = instrument `{ $id }`: `transport.timeout` must be > 0
err-config-empty-channel-id = instrument `{ $id }`: a channel has an empty `id`
err-config-duplicate-channel = instrument `{ $id }`: channel `{ $channel }` is listed twice
err-config-not-finite = instrument `{ $id }`: channel `{ $channel }`: `scale` and `offset` must be finite
err-config-setting = instrument `{ $id }`: `settings` entry `{ $key }`: { $problem }
err-config-family = instrument `{ $id }`: { $problem }
err-setting-key-empty = is empty
err-setting-key-register = must be a holding register address 0..65535
err-setting-key-header = must be one setting header such as `:SAMPle:RATE` (no `?`, `;` or spaces)
err-field-missing = needs `{ $key }` (family { $family })
err-field-type = `{ $key }` must be { $expected }
err-field-expected-text = text
err-field-expected-number = a finite number
err-field-range = `{ $key }` must be { $min }..{ $max }, got { $got }
err-field-choice = `{ $key }` must be one of { $allowed }, got `{ $got }`
err-field-transport = family { $family } does not work over `transport.kind` { $got }; use { $allowed }
err-field-unused = `{ $key }` is not used by family { $family }
err-field-no-port = `transport.port` must be given: family { $family } has no default port
err-field-channel = channel `{ $channel }`: { $problem }
err-field-read-config = cannot read the config: { $reason }
err-field-channel-timeout = `timeout` must be > 0 and at most 1m, got { $got }
err-field-error-format-unused = `error_format` is given but `error_query` is "none" (no error queue)
err-field-error-query-empty = `error_query` must be a query such as ":SYSTem:ERRor?" or "none", got `{ $got }`
err-field-error-query-line = `error_query` must be one query on one line, got `{ $got }`
err-field-error-query-mark = `error_query` must be a query ending in `?` (or "none"), got `{ $got }`
err-field-line-empty = `{ $key }` must not be empty, got `{ $got }`
err-field-line-multi = `{ $key }` must be one line, got `{ $got }`
err-field-select-reply-alone = `select_reply` is given but `select` is not
err-field-select-serial = `select` addresses a device on a shared serial line; it needs a serial transport
err-field-fixed-registers = channel `{ $channel }`: `{ $key }` is not used by family sdm630 (its register map is fixed); leave it out
err-field-fixed-characteristics = channel `{ $channel }`: `{ $key }` is not used by family ble-ess (its characteristics are fixed); leave it out

## Network sweep host lists
err-hosts-empty = no hosts given (e.g. `192.168.1.1-254` or `192.168.1.0/24`)
err-hosts-too-many-all = `{ $hosts }` covers more than { $max } hosts; sweep a smaller range
err-hosts-too-many = `{ $item }` covers { $count } hosts; at most { $max } per sweep
err-hosts-prefix = `{ $item }`: the prefix length must be 0..32
err-hosts-last-octet = `{ $item }`: `{ $end }` is not an address or a last octet 0..255
err-hosts-backwards = `{ $item }`: the range ends before it starts
err-hosts-not-address = `{ $item }` is not an IP address, range or CIDR block
err-hosts-not-v4 = `{ $item }`: `{ $text }` is not an IPv4 address

## Licence files and keys
err-licence-key = licence key: { $reason }
err-licence-key-prefix = a licence key starts with `md-ed25519:`
err-licence-key-base64 = the licence key after `md-ed25519:` is not base64
err-licence-key-length = a licence key holds 32 bytes, this one { $n }
err-licence-key-point = the licence key is not a valid ed25519 public key
err-licence-not-a-licence = this is not a Meterdeck licence file ({ $reason }); fetch the licence again from the cloud
err-licence-truncated = the licence file is cut short; fetch the licence again from the cloud
err-licence-wrong-key = the licence was signed by key { $signed_by }, but this installation trusts { $trusted } (the cloud it was registered with); fetch the licence from that cloud, or register again
err-licence-altered = the licence file was altered (its { $part } does not match); fetch the licence again from the cloud
err-licence-unreadable = the licence is signed but this version cannot read it ({ $reason }); update Meterdeck
err-licence-other-account = the licence belongs to account { $licence }, not to { $ours }; fetch this account's licence
err-licence-future = the licence was issued at { $issued_at } ms, after this computer's clock ({ $now } ms): check the clock, then fetch the licence again

## Plan limits
err-limit = the { $plan } plan allows { $max } { $noun }; { $what }: { $lift } (see `meterdeck-agent licence show` or the Licence screen)
err-limit-noun-instruments = instruments per agent
err-limit-noun-channels = channels per instrument
err-limit-noun-alarms = alarm rules per agent
err-limit-noun-calcs = calculation channels per agent
err-limit-noun-panels = dashboard panels per agent
err-limit-instrument-has = instrument `{ $instrument }` has { $count } and the change asks for { $wanted }
err-limit-agent-has = this agent has { $count } and the change asks for { $wanted }
err-limit-lift-remote-pro = remove some (Remote Pro is the largest gateway plan)
err-limit-lift-remote-card = remove some, or apply a Remote Pro card to this gateway
err-limit-lift-gateway = remove some, or license this agent as a gateway (Remote plan card)
err-limit-lift-pro = remove some (Pro is the largest plan)
err-limit-lift-standard = remove some, or change the account to the Pro plan
err-limit-lift-free = remove some, or apply a Standard or Pro licence card to the account
err-limit-templates = the { $plan } plan allows { $max } report templates; this agent has { $count } and a new one would make { $next }: { $lift } (see `meterdeck-agent licence show` or the Licence screen)
err-limit-templates-lift-pro = remove one (Pro is the largest plan)
err-limit-templates-lift-standard = remove one, or change the account to the Pro plan
err-limit-templates-lift-free = apply a Standard or Pro licence card to the account

## Reports: templates, schedules, runs
err-report-field = { $field }: { $message }
err-report-unknown-template = no report template named { $name }
err-report-template = template { $name }: { $reason }
err-report-create = cannot create { $path }: { $reason }
err-report-template-invalid = report template: { $reason }
err-report-bad-range = the range's start must be before its end
err-report-unknown-channel = channel { $channel } is not in the store
err-report-logo = logo { $path }: { $reason }
err-report-time-zone = time zone { $tz } is not an IANA time zone
err-report-journal = reading the alarm journal: { $reason }
err-report-render = drawing the report: { $reason }
err-report-write = writing { $path }: { $reason }
err-range-time-zone = time zone { $tz } is not an IANA time zone name (e.g. Europe/Berlin, Asia/Tokyo)
err-range-empty = the fixed range must end after it starts (from { $from } ms, to { $to } ms)
err-range-out = { $t } ms is outside the dates a report can cover
err-schedule-at = { $at } is not a local time HH:MM (00:00 to 23:59)
err-schedule-weekday = { $weekday } is not a weekday (mon, tue, wed, thu, fri, sat, sun)
err-schedule-day = { $day } is not a day of the month (1 to 31)
err-schedule-date-range = date out of range
err-schedule-no-due = no due time within 400 days
err-saved-name-length = 1 to 100 characters, without spaces at either end
err-saved-name-chars = must not contain `/` or control characters
err-saved-destination = no destination `{ $name }` in the configuration (one of: { $known })
err-saved-name-taken = a template named { $name } already exists
err-template-no-name = `name` is empty
err-template-no-channels = `channels` lists no channel
err-template-too-many-channels = `channels` lists { $n } channels, at most { $max }
err-template-channel-path = channel { $channel } is not an `instrument/channel` path
err-template-group-empty = graph group { $group } lists no channel
err-template-group-channel = graph group { $group } names { $channel }, which is not in `channels`
err-template-threshold-channel = thresholds name { $channel }, which is not in `channels`
err-template-threshold-finite = the thresholds of { $channel } must be finite numbers
err-template-time-zone = `time_zone` { $tz } is not an IANA time zone
err-template-fixed-range = the fixed range's `from` must be before its `to`

## Data export
err-export-write = cannot write { $path }: { $reason }
err-export-no-channels = no channels to export

## Dashboards: boards, panels, board files and images
err-board-no-name = enter a name for the board
err-board-name-length = a board name has at most { $max } characters
err-board-panel-size = { $what }: width and height must be at least 1 cell (got { $w }x{ $h })
err-board-panel-off-grid = { $what }: at column { $x }, row { $y } with size { $w }x{ $h } it leaves the { $cols }x{ $rows } grid
err-board-panel-title = { $what }: a title has at most { $max } characters
err-board-panel-no-channel = { $what }: choose at least one channel
err-board-panel-channels = { $what }: a panel shows at most { $max } channels
err-board-image-no-channels = { $what }: an image-only panel shows no channels (use image-values)
err-board-choose-image = { $what }: choose an image
err-board-image-only = { $what }: only image panels have an image
err-board-image-name = { $what }: image `{ $name }` is not an image file name of the data directory
err-board-placements-kind = { $what }: only image-values panels place values
err-board-placement-channel = { $what }: placed channel `{ $channel }` is not one of the panel's channels
err-board-placement-outside = { $what }: placement of `{ $channel }` at ({ $x }, { $y }) is outside the image (0..1)
err-board-rules-kind = { $what }: only alarm lists choose rules
err-dashboard-unknown-board = no dashboard board with id { $id }
err-dashboard-unknown-panel = board { $board } has no panel { $panel }
err-dashboard-channel-form = { $what }: channel `{ $channel }` is not of the form instrument/channel
err-dashboard-channel-unknown = { $what }: channel `{ $channel }` is not a channel of this agent
err-dashboard-channel-twice = { $what }: channel `{ $channel }` is listed twice
err-dashboard-overlap = { $what } overlaps { $other }
err-dashboard-panel-id-twice = { $what }: panel id { $id } is used twice
err-dashboard-file = dashboard file: { $problem }
err-dashboard-write-board = cannot write the board: { $reason }
err-dashboard-what-image = image `{ $name }`
err-dashboard-what-file = file { $path }
err-dashboard-file-not-json = not JSON ({ $reason })
err-dashboard-file-not-object = not a JSON object
err-dashboard-file-no-format = not a Meterdeck dashboard (no `{ $key }` key)
err-dashboard-file-version = version { $got } is not one this Meterdeck reads (it reads version { $version })
err-dashboard-file-field = `{ $field }`: { $reason }
err-dashboard-file-name = name: { $problem }
err-dashboard-file-image-missing = panel { $panel }: image `{ $name }` is not in the file's `images`
err-dashboard-file-image-base64 = image `{ $name }` is not base64 ({ $reason })
err-dashboard-not-image = { $what } is not a PNG, JPEG, GIF, WebP or SVG image
err-dashboard-image-size = { $what } is { $mb } MB; images up to { $max } MB are accepted
err-dashboard-create = cannot create { $path }: { $reason }
err-dashboard-write = cannot write { $path }: { $reason }
err-dashboard-read-image = cannot read image { $path }: { $reason }
err-dashboard-not-file = { $path } is not a file
err-dashboard-image-too-large = image { $path } is larger than { $max } MB
err-dashboard-not-kept-image = `{ $name }` is not an image of the dashboards
err-dashboard-kept-not-image = image `{ $name }` in the data directory is not an image
err-dashboard-board-damaged = board { $id } in the store cannot be read: { $reason }
err-dashboard-order = the new order must name every board once: boards are { $have }, the order names { $ids }

## The store (what SQLite or the OS said is quoted as it came)
err-store-open = cannot open store { $path }: { $reason }
err-store-create-dir = cannot create the directory of store { $path }: { $reason }
err-store-database = store { $path }: { $op } failed: { $reason }
err-store-sqlite = database error: { $reason }
err-store-schema-too-new = store { $path } has schema version { $found }, this build knows versions up to { $supported }; use a newer meterdeck
err-store-schema-mismatch = store { $path } has schema version { $found }, expected { $expected }; open it once read-write (start the agent) to migrate it
err-store-part-too-new = store { $path } holds the { $part } tables at version { $found }, this build knows versions up to { $supported }; use a newer meterdeck

## Alarm actions and destinations (window forms)
err-desk-shelve-minutes = shelve for 1 to { $max } minutes, not { $minutes }
err-desk-no-secret = a desktop destination has no password or URL to store
err-desk-journal-action = unknown journal action `{ $action }`
err-desk-enter-user = enter who you are (1-100 characters)

## Instruments, ports and radios
err-device-action-failed = { $action } failed: { $reason }
err-device-no-identity = instrument `{ $id }`: { $family } devices do not answer an identity query
err-device-no-idn = instrument `{ $id }` did not answer `*IDN?`
err-device-idn-reply = instrument `{ $id }`: `*IDN?` replied { $reply }: { $reason }
err-device-serial-list = cannot list serial ports: { $reason }
err-device-ble-scan = Bluetooth LE scan: { $reason }
