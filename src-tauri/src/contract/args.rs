//! The command table: for each command, the module that implements it, its
//! argument struct (camelCase keys in JSON; an `Option` may be left out)
//! and its result. `register` wires exactly these commands, so a command
//! cannot reach the window without being part of the contract.

use meterdeck_core::alarm::{Action, AlarmRule, AlarmView, JournalEntry};
use meterdeck_core::calc::CalcConfig;
use meterdeck_core::cloudlink::{
    AccessLogPage, AccessLogQuery, AccountView, AdminGroup, AdminMe, AdminTeam, AdminUser, ApiTokenView, CreatedToken,
    TotpSetup, UserPatch, UserWithPassword,
};
use meterdeck_core::cloudlink::{
    AgentView, CloudChannelView, CloudSeries, CloudStatus, CloudUsageView, LicenceHistoryEntry, LocalSyncView,
    SiteAlarms, StorageMeter,
};
use meterdeck_core::config::SectionError;
use meterdeck_core::dashboard::{Dashboards, Panel};
use meterdeck_core::desk::{
    AppState, DestinationView, ExportView, IdentifyView, InstrumentView, LatestView, LicenceScreen, SeriesView,
    StartView, TableView, TimeRange, UiSettings,
};
use meterdeck_core::model::{ChannelId, ChannelRecord, Event, TimeMs};
use meterdeck_core::notify::{DestinationConfig, Note};
use meterdeck_core::report::saved::{RunView, SavedTemplate};
use meterdeck_drivers::discovery::Found;
use meterdeck_drivers::transport::SerialPortInfo;
// Bluetooth LE (issue 14)
use meterdeck_drivers::transport::ble_scan::BleFound;
use meterdeck_drivers::{FamilyInfo, InstrumentConfig};
// Instrument control (issue 14)
use meterdeck_core::control::{ConsoleHold, ControlOutcome, Profile};
use meterdeck_drivers::control::SettingDiff;
// Measurement files (issue 14)
use meterdeck_core::cloudlink::CloudFile;
use meterdeck_core::desk::LocalFileView;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Command;

/// A binary reply: the window receives an `ArrayBuffer` (no JSON). The
/// command answers it as a raw `tauri::ipc::Response` (`From` below); this
/// type only names it in the contract and the bindings.
#[derive(Debug, Serialize, TS)]
pub struct SeriesFrame(#[ts(type = "ArrayBuffer")] pub Vec<u8>);

impl From<SeriesFrame> for tauri::ipc::Response {
    fn from(f: SeriesFrame) -> Self {
        tauri::ipc::Response::new(f.0)
    }
}

macro_rules! contract {
    ($(
        $(#[doc = $doc:literal])*
        $module:ident::$name:ident($args:ident { $( $(#[$meta:meta])* $field:ident: $ty:ty ),* $(,)? }) -> $reply:ty;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Deserialize, TS)]
            #[serde(rename_all = "camelCase")]
            #[ts(optional_fields = nullable)]
            pub struct $args {
                $( $(#[$meta])* pub $field: $ty, )*
            }

            impl Command for $args {
                const NAME: &'static str = stringify!($name);
                type Reply = $reply;
            }
        )*

        /// Registers every command of the table on a builder (the app and the tests use it).
        pub fn register<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
            builder.invoke_handler(tauri::generate_handler![$( crate::$module::$name ),*])
        }

        /// Every command of the table, in order.
        #[cfg(test)]
        pub fn visit_commands(v: &mut impl super::Visit) {
            $( v.command::<$args>(); )*
        }
    };
}

contract! {
    // ------------------------------------------------------------ alarms
    /// Every alarm: unacknowledged first, then active, severity, newest.
    commands::alarms_list(AlarmsListArgs {}) -> Vec<AlarmView>;
    commands::alarm_ack(AlarmAckArgs { alarm_id: String, user: String, comment: Option<String> }) -> ();
    commands::alarm_shelve(AlarmShelveArgs { alarm_id: String, minutes: u32, user: String, comment: Option<String> }) -> ();
    commands::alarm_unshelve(AlarmUnshelveArgs { alarm_id: String, user: String }) -> ();
    commands::alarm_out_of_service(AlarmOutOfServiceArgs {
        alarm_id: String,
        on: bool,
        user: String,
        comment: Option<String>,
    }) -> ();

    commands::rules_list(RulesListArgs {}) -> Vec<AlarmRule>;
    /// `null` when the rule could be saved as it is.
    commands::rule_check(RuleCheckArgs {
        /// Read by the backend itself, so that a bad key is named as the field at fault.
        #[ts(as = "AlarmRule")]
        rule: serde_json::Value,
    }) -> Option<SectionError>;
    /// Refused with a `SectionError` as JSON text.
    commands::rule_save(RuleSaveArgs {
        #[ts(as = "AlarmRule")]
        rule: serde_json::Value,
    }) -> ();
    commands::rule_delete(RuleDeleteArgs { id: String }) -> ();
    commands::rule_set_enabled(RuleSetEnabledArgs { id: String, enabled: bool }) -> ();

    commands::calcs_list(CalcsListArgs {}) -> Vec<CalcConfig>;
    /// `null` when the calculation could be saved as it is.
    commands::calc_check(CalcCheckArgs {
        #[ts(as = "CalcConfig")]
        calc: serde_json::Value,
    }) -> Option<SectionError>;
    commands::calc_save(CalcSaveArgs {
        #[ts(as = "CalcConfig")]
        calc: serde_json::Value,
    }) -> ();
    commands::calc_delete(CalcDeleteArgs { id: String }) -> ();

    commands::destinations_list(DestinationsListArgs {}) -> Vec<DestinationView>;
    /// The secret (SMTP password, webhook URL) goes to the OS keychain, never to the file.
    commands::destination_save(DestinationSaveArgs {
        #[ts(as = "DestinationConfig")]
        destination: serde_json::Value,
        secret: Option<String>,
    }) -> ();
    commands::destination_delete(DestinationDeleteArgs { id: String }) -> ();
    /// Sends a test message; refused with the reason when it could not.
    commands::destination_test(DestinationTestArgs { id: String }) -> ();

    /// `from`/`to` inclusive; newest first; `limit` defaults to 500.
    commands::journal_query(JournalQueryArgs {
        from: Option<TimeMs>,
        to: Option<TimeMs>,
        alarm_id: Option<String>,
        /// Read by name, so that an unknown action is refused with its name.
        #[ts(as = "Option<Action>")]
        action: Option<String>,
        limit: Option<usize>,
    }) -> Vec<JournalEntry>;

    commands::notifications_list(NotificationsListArgs { unread_only: bool, limit: Option<usize> }) -> Vec<Note>;
    commands::notifications_unread_count(NotificationsUnreadCountArgs {}) -> u64;
    commands::notification_mark_read(NotificationMarkReadArgs { id: String }) -> ();
    commands::notifications_mark_all_read(NotificationsMarkAllReadArgs {}) -> ();

    // ------------------------------------------------- settings, instruments
    commands::app_state(AppStateArgs {}) -> AppState;
    commands::save_settings(SaveSettingsArgs { settings: UiSettings }) -> ();
    /// The instrument families and their fields, from the registry.
    commands::families(FamiliesArgs {}) -> Vec<FamilyInfo>;
    commands::list_instruments(ListInstrumentsArgs {}) -> Vec<InstrumentView>;
    /// Adds `config`, or puts it in place of `replaceId`; answers the instrument as now listed.
    commands::save_instrument(SaveInstrumentArgs { config: InstrumentConfig, replace_id: Option<String> }) -> InstrumentView;
    commands::remove_instrument(RemoveInstrumentArgs { id: String }) -> ();
    commands::identify(IdentifyArgs { id: String }) -> IdentifyView;
    commands::discover_lan(DiscoverLanArgs { hosts: String, ports: Vec<u16>, timeout_ms: u64 }) -> Vec<Found>;
    commands::list_serial_ports(ListSerialPortsArgs {}) -> Vec<SerialPortInfo>;
    commands::probe_serial(ProbeSerialArgs { paths: Vec<String>, baud: u32 }) -> Vec<Found>;
    /// When the fast monitor ends (`null` when off).
    commands::set_fast_monitor(SetFastMonitorArgs { id: String, on: bool }) -> Option<TimeMs>;

    // ------------------------------------------------------------- data
    commands::latest(LatestArgs {}) -> Vec<LatestView>;
    commands::channels(ChannelsArgs {}) -> Vec<ChannelRecord>;
    /// `[from, to)` in ms, one M4 bucket per pixel column of `width`.
    commands::series(SeriesArgs { channel_ids: Vec<ChannelId>, from: TimeMs, to: TimeMs, width: u32 }) -> Vec<SeriesView>;
    /// The span holding all samples of the channels (the Viewer's "all").
    commands::series_extent(SeriesExtentArgs { channel_ids: Vec<ChannelId> }) -> Option<TimeRange>;
    /// `series` as one binary frame, read as typed arrays (layout: core's `desk/series_frame.rs`).
    commands::series_frame(SeriesFrameArgs { channel_ids: Vec<ChannelId>, from: TimeMs, to: TimeMs, width: u32 }) -> SeriesFrame;
    /// What the first screen needs, in one call: state, instruments, whether a board exists, latest values.
    commands::start_view(StartViewArgs {}) -> StartView;
    commands::table(TableArgs { channel_ids: Vec<ChannelId>, from: TimeMs, to: TimeMs, limit: u32 }) -> TableView;
    /// Writes the file and emits `export-progress`.
    commands::export(ExportArgs { channel_ids: Vec<ChannelId>, from: TimeMs, to: TimeMs, path: String }) -> ExportView;
    commands::console_acquire(ConsoleAcquireArgs { instrument: String, operator: String }) -> ();
    /// The instrument's reply (`null` for a command without one).
    commands::console_send(ConsoleSendArgs { instrument: String, operator: String, command: String }) -> Option<String>;
    commands::console_release(ConsoleReleaseArgs { instrument: String, operator: String }) -> ();
    commands::events(EventsArgs { instrument: Option<String>, kind: Option<String>, limit: u32 }) -> Vec<Event>;

    // ------------------------------------------------------------- cloud
    /// The password goes to the backend once; nothing keeps it.
    cloud::cloud_sign_in(CloudSignInArgs { url: String, account: String, user: String, password: String }) -> CloudStatus;
    cloud::cloud_code(CloudCodeArgs { code: String }) -> CloudStatus;
    cloud::cloud_change_password(CloudChangePasswordArgs { current: String, new: String }) -> CloudStatus;
    cloud::cloud_sign_out(CloudSignOutArgs {}) -> CloudStatus;
    cloud::cloud_status(CloudStatusArgs {}) -> CloudStatus;
    cloud::cloud_agents(CloudAgentsArgs {}) -> Vec<AgentView>;
    cloud::cloud_channels(CloudChannelsArgs { agent: String }) -> Vec<CloudChannelView>;
    cloud::cloud_series(CloudSeriesArgs { channel: String, from: TimeMs, to: TimeMs, buckets: u32 }) -> CloudSeries;
    /// The signed-in account's stored bytes against its plan's capacity, and
    /// the largest channels (`/licence/status` and `/licence/storage`).
    cloud::cloud_storage(CloudStorageArgs {}) -> StorageMeter;
    /// A site's alarms as the cloud knows them (standing first).
    cloud::cloud_site_alarms(CloudSiteAlarmsArgs { agent: String }) -> SiteAlarms;
    /// Acknowledges a site's alarm through the cloud (the agent journals it
    /// as `<user>@cloud` when it gets it); the site's alarms after it.
    cloud::cloud_alarm_ack(CloudAlarmAckArgs { agent: String, alarm: String, comment: String }) -> SiteAlarms;
    /// This agent's own sync (backlog, last acknowledgement, traffic).
    cloud::sync_status(SyncStatusArgs {}) -> LocalSyncView;

    // ----------------------------------------------------------- licence
    /// The licence in force (verified offline), each limit's use, the banner.
    licence::licence_show(LicenceShowArgs {}) -> LicenceScreen;
    /// Fetches the account's licence over the cloud session and keeps it if
    /// it verifies (the service's key is pinned at the first fetch).
    licence::licence_fetch(LicenceFetchArgs {}) -> LicenceScreen;
    licence::licence_history(LicenceHistoryArgs {}) -> Vec<LicenceHistoryEntry>;
    /// The cloud's account-wide limits and their use (`/licence/status`);
    /// `null` when not signed in to the cloud.
    licence::licence_cloud_usage(LicenceCloudUsageArgs {}) -> Option<CloudUsageView>;
    /// Applies a licence card to the account (admins), then fetches the licence.
    licence::licence_apply_card(LicenceApplyCardArgs { card: String }) -> LicenceScreen;

    // ------------------------------------------------ cloud administration
    /// The signed-in user's role and second factor (the admin sections hide by role).
    cloud_admin::cloud_admin_me(CloudAdminMeArgs {}) -> AdminMe;
    cloud_admin::cloud_users(CloudUsersArgs {}) -> Vec<AdminUser>;
    /// Invites a user; the temporary password in the reply is shown once.
    cloud_admin::cloud_user_create(CloudUserCreateArgs { id: String, name: String, email: String, role: String, invite: Option<bool> }) -> UserWithPassword;
    cloud_admin::cloud_user_update(CloudUserUpdateArgs { id: String, patch: UserPatch }) -> AdminUser;
    cloud_admin::cloud_user_temporary_password(CloudUserTemporaryPasswordArgs { id: String }) -> UserWithPassword;
    cloud_admin::cloud_user_delete(CloudUserDeleteArgs { id: String }) -> ();
    cloud_admin::cloud_teams(CloudTeamsArgs {}) -> Vec<AdminTeam>;
    /// `create`: a new team; else replaces the team's name and members.
    cloud_admin::cloud_team_save(CloudTeamSaveArgs { create: bool, id: String, name: String, members: Vec<String> }) -> AdminTeam;
    cloud_admin::cloud_team_delete(CloudTeamDeleteArgs { id: String }) -> ();
    cloud_admin::cloud_groups(CloudGroupsArgs {}) -> Vec<AdminGroup>;
    /// `create`: a new group; else replaces the group's agents and grants.
    cloud_admin::cloud_group_save(CloudGroupSaveArgs { create: bool, group: AdminGroup }) -> AdminGroup;
    cloud_admin::cloud_group_delete(CloudGroupDeleteArgs { id: String }) -> ();
    /// The secret and otpauth URI for the authenticator app (confirm next).
    cloud_admin::cloud_totp_setup(CloudTotpSetupArgs {}) -> TotpSetup;
    /// Answers the second factor now in force (`totp`).
    cloud_admin::cloud_totp_confirm(CloudTotpConfirmArgs { code: String }) -> String;
    cloud_admin::cloud_tokens(CloudTokensArgs {}) -> Vec<ApiTokenView>;
    /// The token text in the reply is shown once.
    cloud_admin::cloud_token_create(CloudTokenCreateArgs { name: String }) -> CreatedToken;
    cloud_admin::cloud_token_delete(CloudTokenDeleteArgs { id: String }) -> ();
    cloud_admin::cloud_account(CloudAccountArgs {}) -> AccountView;
    /// Answers the list as stored.
    cloud_admin::cloud_ip_allow_set(CloudIpAllowSetArgs { ip_allow: Vec<String> }) -> Vec<String>;
    cloud_admin::cloud_access_log(CloudAccessLogArgs { query: AccessLogQuery }) -> AccessLogPage;
    /// `confirm` must be the account ID as typed; the session ends with the account.
    cloud_admin::cloud_account_delete(CloudAccountDeleteArgs { confirm: String, password: String }) -> ();
    // -------------------------------------------------------- dashboards
    /// Every board in order and the one to open (the last used).
    dashboards::dashboards_list(DashboardsListArgs {}) -> Dashboards;
    /// A new empty board at the end; it becomes the one to open.
    dashboards::board_create(BoardCreateArgs { name: String }) -> Dashboards;
    dashboards::board_rename(BoardRenameArgs { id: i64, name: String }) -> Dashboards;
    /// `ids`: every board once, in the new order.
    dashboards::board_reorder(BoardReorderArgs { ids: Vec<i64> }) -> Dashboards;
    dashboards::board_delete(BoardDeleteArgs { id: i64 }) -> Dashboards;
    /// Remembers the board shown (the app opens there next time).
    dashboards::board_open(BoardOpenArgs { id: i64 }) -> ();
    /// Checked (grid, overlap, channels, the plan's panel limit), then kept; the id is given by the backend.
    dashboards::panel_add(PanelAddArgs { board: i64, panel: Panel }) -> Dashboards;
    /// Moves, resizes or edits the panel with `panel.id`.
    dashboards::panel_update(PanelUpdateArgs { board: i64, panel: Panel }) -> Dashboards;
    dashboards::panel_remove(PanelRemoveArgs { board: i64, panel: u32 }) -> Dashboards;
    /// Writes the board and its images to an absolute `.json` path; answers the path.
    dashboards::board_export(BoardExportArgs { id: i64, path: String }) -> String;
    /// A bad file is refused naming what is wrong, and changes nothing.
    dashboards::board_import(BoardImportArgs { path: String }) -> Dashboards;
    /// Copies an image file into the data directory; answers the name a panel keeps.
    dashboards::dashboard_image_import(DashboardImageImportArgs { path: String }) -> String;
    /// A kept image as a `data:` URL.
    dashboards::dashboard_image(DashboardImageArgs { name: String }) -> String;
    // ------------------------------------------------- Bluetooth LE (issue 14)
    /// Scans for `seconds` (1..120): every device heard, with the family and transport that fit.
    commands::discover_ble(DiscoverBleArgs { seconds: u64 }) -> Vec<BleFound>;
    // ----------------------------------------------------------- reports (sched)
    reports::report_templates(ReportTemplatesArgs {}) -> Vec<SavedTemplate>;
    /// Saves a template (new, or in place of `replace`); refused with a
    /// `SectionError` as JSON text, or by the plan limit.
    reports::report_template_save(ReportTemplateSaveArgs {
        #[ts(as = "SavedTemplate")]
        saved: serde_json::Value,
        replace: Option<String>,
    }) -> ();
    reports::report_template_delete(ReportTemplateDeleteArgs { name: String }) -> ();
    /// Generated reports, newest first (`limit` defaults to 200).
    reports::report_runs(ReportRunsArgs { limit: Option<usize> }) -> Vec<RunView>;
    /// Generates the template's report now; emits `report-progress`.
    reports::report_generate(ReportGenerateArgs { name: String }) -> RunView;
    /// Opens the run's PDF with the desktop's viewer.
    reports::report_open(ReportOpenArgs { run: i64 }) -> ();
    /// Copies the run's PDF (and CSV) to `path`; answers the path written.
    reports::report_save_as(ReportSaveAsArgs { run: i64, path: String }) -> String;
    // ------------------------------------------- instrument control (issue 14)
    /// `command`: start, stop, restart or set-clock. `operator` may be empty
    /// while nobody holds the instrument's console.
    control::instrument_control(InstrumentControlArgs { instrument: String, operator: String, command: String }) -> ControlOutcome;
    /// The instrument's saved settings profiles, oldest first.
    control::profiles_list(ProfilesListArgs { instrument: String }) -> Vec<Profile>;
    /// Reads the instrument's settings and keeps them as profile `name`.
    control::profile_save(ProfileSaveArgs { instrument: String, operator: String, name: String }) -> Profile;
    /// The profile against the instrument's settings now (nothing is changed).
    control::profile_diff(ProfileDiffArgs { instrument: String, operator: String, name: String }) -> Vec<SettingDiff>;
    /// Writes what differs, reads back and verifies (after the window's confirmation).
    control::profile_push(ProfilePushArgs { instrument: String, operator: String, name: String }) -> ControlOutcome;
    // ------------------------------------------- remote access from the cloud (issue 16)
    /// The instruments whose owner allowed remote access from the cloud (`*`: adding instruments).
    remote::remote_consents(RemoteConsentsArgs {}) -> Vec<String>;
    /// The owner's switch: only the local window (and the local CLI) turns it on or off.
    remote::remote_consent_set(RemoteConsentSetArgs { instrument: String, on: bool }) -> ();
    /// The cloud user operating the instrument's console now (`null`: nobody remotely).
    remote::remote_console_holder(RemoteConsoleHolderArgs { instrument: String }) -> Option<ConsoleHold>;
    // ------------------------------------------------- measurement files (issue 14)
    /// Collected files, newest first (`limit` defaults to 5000).
    files::files_local(FilesLocalArgs { instrument: Option<String>, limit: Option<usize> }) -> Vec<LocalFileView>;
    /// Fetches one file now (up to 1 GB, over the automatic limit too); emits `file-progress`.
    files::files_fetch(FilesFetchArgs { instrument: String, name: String }) -> LocalFileView;
    /// Uploads a fetched file to the cloud now; emits `file-progress`.
    files::files_upload(FilesUploadArgs { id: i64 }) -> LocalFileView;
    /// Opens the files folder (of one instrument, or all); answers its path.
    files::files_open_folder(FilesOpenFolderArgs { instrument: Option<String> }) -> String;
    /// The signed-in cloud account's files, newest first.
    files::cloud_files(CloudFilesArgs { instrument: Option<String> }) -> Vec<CloudFile>;
    /// Downloads a cloud file into `folder` (default: the data directory's `downloads`),
    /// checked by size and SHA-256; emits `file-progress`; answers the path written.
    files::cloud_file_download(CloudFileDownloadArgs { id: String, folder: Option<String> }) -> String;
}
