# Refusals of the forms and of the configuration file: the instrument,
# calculation, alarm, destination, files and cloud sections. English reads
# exactly as the code's Display text (core and device-drivers tests check it).


## A calculation's expression (the column goes before it)
form-expr-column = column { $column }: { $message }
form-expr-too-long = the expression is longer than { $max } characters
form-expr-empty = the expression is empty
form-expr-unmatched-paren = unmatched `)`
form-expr-expected-operator = expected an operator (+ - * /) after `{ $before }`, found `{ $found }`
form-expr-unexpected-char = unexpected character `{ $char }`
form-expr-unexpected-caret = unexpected character `{ $char }` (for a square write SQ(x))
form-expr-unexpected-comma = unexpected character `{ $char }` (the decimal separator is `.`)
form-expr-exponent = malformed number `{ $number }`: the exponent needs digits, e.g. `1e3`
form-expr-number-then-name = `{ $number }{ $name }` is not a number (to multiply write `{ $number } * { $name }`)
form-expr-malformed-number = malformed number `{ $number }`
form-expr-number-too-large = the number `{ $number }` is too large
form-expr-too-deep = nested too deeply (more than { $max } levels of parentheses, functions and minus signs)
form-expr-function-as-variable = `{ $name }` is a function: write `{ $name }(x)` (it cannot be a variable name)
form-expr-unknown-function = unknown function `{ $name }` (there are SQ(x) and SQR(x))
form-expr-expected-operand = expected a number, a variable, `(` or `-`, found `{ $found }`
form-expr-expected-operand-end = expected a number, a variable, `(` or `-`, found the end
form-expr-expected-operand-after = expected a number, a variable, `(` or `-` after `{ $before }`, found `{ $found }`
form-expr-expected-operand-after-end = expected a number, a variable, `(` or `-` after `{ $before }`, found the end
form-expr-expected-close = expected `)` after `{ $before }`, found `{ $found }`
form-expr-expected-close-end = expected `)` after `{ $before }`

## [[calc]]: a calculation channel
form-calc-text-too-long = `{ $field }` is longer than { $max } characters
form-calc-text-control = `{ $field }` must not contain control characters (line breaks, tabs)
form-calc-tolerance = `tolerance` must be at most 1h, got { $got }
form-calc-no-inputs = a calculation needs at least one input, e.g. `inputs = {"{"} A = "logger1/CH1_1" {"}"}`
form-calc-too-many-inputs = at most { $max } inputs are allowed, got { $got }
form-calc-bad-input-name = `{ $var }` cannot be an input name: use letters, digits and `_`, not starting with a digit, and not SQ or SQR
form-calc-input-not-path = input `{ $var }`: expected a channel path `instrument/channel`, got { $path }
form-calc-own-output = input `{ $var }`: a calculation cannot use its own output `{ $path }`
form-calc-not-an-input = `{ $name }` is not one of the inputs ({ $inputs })
form-calc-unused-input = input `{ $var }` is not used in `expr`; use it or remove it
form-calc-duplicate-id = `id` `{ $id }` is used by another calculation
form-calc-unknown-calc = input `{ $var }`: there is no calculation `{ $calc }` for `{ $path }`
form-calc-loop = calculations use each other's output in a loop: { $loop } (each uses the next one)
form-calc-id-empty = `id` must not be empty
form-calc-id-too-long = `id` is longer than { $max } characters
form-calc-id-chars = `id` { $id } may only contain letters A-Z a-z, digits, `_` and `-`, found { $char }

## Shared by the sections: a key and what a parser (serde, toml) said about it
form-key-says = `{ $key }`: { $reason }

## Sizes as people write them (disk quota, monthly allowance, storage alarms)
form-size-unreadable = cannot read the size { $text } (expected e.g. "2 GiB" or "500 MB")
form-size-unknown-unit = unknown size unit { $unit } in { $text } (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)
form-size-out-of-range = size { $text } is out of range

## [[alarm]]: an alarm rule
form-alarm-window = window: { $message }
form-alarm-window-no-days = list at least one day (or leave `days` out)
form-alarm-window-unknown-day = unknown day { $day } (use mon, tue, wed, thu, fri, sat, sun)
form-alarm-window-from = expected a time HH:MM (00:00..23:59), got { $got }
form-alarm-window-to = expected a time HH:MM (00:00..24:00), got { $got }
form-alarm-window-empty = `from` and `to` are equal; the window would be empty (use 00:00 to 24:00 for a whole day)
form-alarm-window-tz = unknown time zone { $name } (use an IANA name such as "Europe/Berlin")
form-alarm-id = `id` must be 1-64 characters of A-Z a-z 0-9 _ -, got { $got }
form-alarm-name = `name` must be 1-200 characters (or leave it out)
form-alarm-not-for-kind = `{ $key }` does not apply to kind = "{ $kind }"
form-alarm-threshold-no-channel = a threshold rule needs `channel` ("instrument/channel")
form-alarm-channel-path = `{ $key }` must be "instrument/channel", got { $got }
form-alarm-threshold-no-op = a threshold rule needs `op` (> >= <= < outside_incl outside_excl)
form-alarm-deadband = `deadband` must be a number >= 0, got { $got }
form-alarm-deadband-too-wide = `deadband` { $deadband } leaves no normal band between low { $low } and high { $high } (needs 2 x deadband < high - low)
form-alarm-second = second: { $message }
form-alarm-instrument = `instrument` must be an instrument id, got { $got }
form-alarm-pattern = `pattern` must be a file name pattern such as "*.csv" (or leave it out for every file)
form-alarm-not-for-new-file = `{ $key }` does not apply to kind = "new_file" (a new file raises the alarm at once)
form-alarm-no-specials = list at least one special kind (or leave `specials` out for all)
form-alarm-below-zero = `below` must be more than 0 bytes
form-alarm-below = `below`: { $message }
form-alarm-filter = `filter` must be at most 24h, got { $got }
form-alarm-destination-id = destination id { $id } is not a valid id
form-alarm-destination-twice = destination { $id } is listed twice
form-alarm-reminder = `reminder` must be between 1m and 7d, got { $got }
form-alarm-message = `message` is longer than { $max } bytes
form-alarm-not-finite = `{ $key }` must be a finite number, got { $got }
form-alarm-op-needs = op "{ $op }" needs `{ $key }`
form-alarm-op-range-no-value = op "{ $op }" uses `low` and `high`, not `value`
form-alarm-op-value-only = op "{ $op }" uses `value`, not `{ $key }`
form-alarm-high-not-above-low = `high` ({ $high }) must be greater than `low` ({ $low })
form-alarm-duplicate-id = `id` { $id } is used by another alarm rule
form-alarm-not-object = a rule must be a JSON object: { $reason }
form-alarm-required = `{ $key }` is required

## [[destination]]: where alarm notifications go (the field goes before it)
form-dest-id = 1 to 64 characters from A-Z a-z 0-9 _ -
form-dest-name = must not be empty and at most 200 characters
form-dest-only-email = only for email destinations
form-dest-only-webhook = only for webhook destinations
form-dest-not-built-email = email destinations are not in this build of Meterdeck (built without the cargo feature `email`): use a build with that feature, or leave it out of the configuration
form-dest-not-built-desktop = desktop notifications are not in this build of Meterdeck (built without the cargo feature `desktop-notify`): use a build with that feature, or leave it out of the configuration
form-dest-webhook-format = required for a webhook destination: slack, teams or json
form-dest-email-host = required for an email destination (the SMTP server's name or address)
form-dest-bad-host = { $host } is not a host name or address (give the port in `port`)
form-dest-port = must be 1 to 65535
form-dest-username = must not be empty (leave it out for a server without login)
form-dest-email-from = required for an email destination, e.g. "Meterdeck <alarms@example.com>"
form-dest-not-an-address = { $address } is not an email address: { $reason }
form-dest-email-to = at least one recipient address
form-dest-duplicate-id = duplicate destination id { $id }

## [[files]]: an instrument's measurement files over FTP (the field goes before it)
form-files-not-an-instrument = `{ $id }` is not an instrument of this configuration
form-files-not-on-lan = instrument `{ $id }` is not on the LAN: name the FTP `host`
form-files-host-empty = must not be empty
form-files-port = must be 1..65535
form-files-user = must not be empty (use `anonymous`)
form-files-depth = at most 8 levels of subfolders
form-files-interval = must be 1s .. 24h
form-files-timeout = must be 100ms .. 10m
form-files-auto-max = at most { $max } (1 GB)
form-files-delete-needs-upload = needs `upload = true`: a file is deleted only after the cloud confirmed its copy
form-files-second-section = has a second `[[files]]` section

## [cloud]: the link to the cloud
form-cloud-host = `cloud.host` must name the MQTT broker
form-cloud-port = `cloud.port` must be 1..65535
form-cloud-tls-only = `cloud.{ $key }` is only used over TLS: add `tls = true` (or remove it)
form-cloud-pem-file = `cloud.{ $key }` must name a PEM file
form-cloud-client-key = `cloud.client_key` must be given with `client_cert` (mutual TLS)
form-cloud-client-cert = `cloud.client_cert` must be given with `client_key` (mutual TLS)
form-cloud-agent = `cloud.agent` must be the agent id the cloud handed out: 1-64 of A-Z a-z 0-9 _ -, got { $got }
form-cloud-allowance-zero = `cloud.monthly_allowance` must be more than 0 bytes
form-cloud-window = `cloud.window` must be 1..1000 batches, got { $got }
form-cloud-resend-timeout = `cloud.resend_timeout` must be between 1s and 1h, got { $got }
form-cloud-send-interval = `cloud.send_interval` must be between 100ms and 1h, got { $got }
form-cloud-api = `cloud.api` must be the cloud's Web API, http(s)://host:port, got { $got }
form-cloud-licence-key = `cloud.licence_key`: { $reason }; run `meterdeck-agent cloud login --api URL` to pin the cloud's key
form-cloud-account = `cloud.account` must be the cloud account id (1-128 printable characters)

## The configuration file (after "FILE:LINE:COL: ")
config-read = cannot read: { $reason }
config-field = { $field }: { $message }
config-files-field = `{ $field }`: { $message }
config-instrument-id-used = instrument `{ $id }`: `id` is used by another instrument
config-instrument-id-at-line = instrument `{ $id }`: `id` is already used by the instrument at line { $line }
config-reserved-instrument = `{ $id }` is reserved for calculation channels; rename the instrument
config-no-destination = no [[destination]] with id `{ $id }`
config-agent-name = `agent.name` must not be empty
config-agent-poll-interval = `agent.poll_interval` must be between 100ms and 1h, got { $got }
config-agent-quota-both = set either `agent.disk_quota` or `agent.disk_quota_mb`, not both
config-agent-quota-mb-too-large = `agent.disk_quota_mb` is too large
config-agent-quota-too-small = the disk quota must be at least 16 MiB, got { $got } bytes
config-agent-keep-unsynced = `agent.keep_unsynced` must be at least 14d, got { $got }
config-agent-block-samples = `agent.block_samples` must be 16..65536, got { $got }
