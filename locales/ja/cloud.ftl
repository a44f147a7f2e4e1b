# The cloud service's error answers (`error` of the API's JSON), in the
# language of the request's Accept-Language (Japanese).

## Plan limits
cloud-limit-count = { $plan } プランで使える{ $noun }は { $max } までで、アカウント { $account } にはすでに { $count } あります。何も作成していません: { $lift }
cloud-limit-count-lift = { $plan } のライセンスカードを適用する（上限 { $max }）か、先に 1 つ削除してください
cloud-limit-count-remove = 先に 1 つ削除してください
cloud-limit-noun-users = ユーザー
cloud-limit-noun-teams = チーム
cloud-limit-noun-agents = エージェント
cloud-limit-noun-groups = 計測グループ
cloud-limit-panels = { $plan } プランではエージェントごとのダッシュボードパネルは { $max } までです。アカウント { $account } のエージェント { $agent } は現在 { $before } で、この変更では { $after } になります。何も保存していません: { $lift }
cloud-limit-panels-lift = いくつか削除するか、{ $plan } のライセンスカードを適用してください（上限 { $max }）
cloud-limit-panels-remove = 先にいくつか削除してください
cloud-limit-feature = { $what }には Pro プランが必要です。アカウント { $account } は { $plan } プランです。利用するには Pro のライセンスカードを適用するか、プランを Pro に変更してください
cloud-limit-feature-web-api = Web API トークン
cloud-limit-feature-ip-restriction = IP 許可リスト
cloud-limit-feature-csv-import = CSV インポート
cloud-limit-storage = { $plan } プランのストレージは { $max } バイトまでで、アカウント { $account } は { $used } バイト使用しています。このファイル（{ $size } バイト）を加えると上限を超えるため、何も保存していません。データを削除するか、ストレージの多いライセンスカードを適用してください

## Sign-in: sessions, tokens, throttling, passwords
cloud-bearer-malformed = Authorization ヘッダーは `Bearer <token>` の形式で、トークンは mds_（ログイン）または mdt_（API トークン）で始まる必要があります
cloud-bearer-unknown = トークンが無効です（ログアウト済み、取り消し済み、または発行されていません）。もう一度ログインしてください
cloud-bearer-expired = 24 時間操作がなかったため、セッションの有効期限が切れました。もう一度ログインしてください
cloud-bearer-pending-expired = ログインが 15 分以内に完了しませんでした。もう一度ログインしてください
cloud-throttle-user-ip = お使いのアドレスからこのユーザーへのログイン失敗が多すぎます（15 分間に { $n } 回）。15 分待つか、パスワードを再設定してください
cloud-throttle-ip = お使いのアドレスからのログイン失敗が多すぎます（15 分間に { $n } 回）。15 分待ってください
cloud-throttle-user = 多数のアドレスからこのユーザーへのログイン失敗が多すぎます（15 分間に { $n } 回）。15 分待つか、パスワードを再設定してください
cloud-throttle-reset = このユーザーのパスワード再設定の依頼が多すぎます。15 分待ち、最新のメールを使ってください
cloud-password-too-long = パスワードが長すぎます（{ $chars } 文字。最大 { $max } 文字）
cloud-password-needs = パスワードには{ $what }が必要です
cloud-password-needs-length = { $min } 文字以上（現在 { $chars } 文字）
cloud-password-needs-digit = 数字
cloud-password-needs-upper = 大文字
cloud-password-needs-lower = 小文字
cloud-list-comma = { $a }、{ $b }
cloud-list-and = { $a }と{ $b }

## Refusals of the API (sign-in, roles, data, files, ...)
cloud-account-token-name-must = トークン名は 1～100 文字にしてください
cloud-account-at-most-200 = IP 許可リストの項目は 200 件までです
cloud-account-password-wrong-account = パスワードが正しくありません。アカウントは削除されていません
cloud-caller-cookie-invalid = セッション Cookie が無効です。もう一度サインインしてください
cloud-caller-authorization-header-ascii = Authorization ヘッダーが ASCII ではありません
cloud-caller-token-gone = トークンのユーザーまたはアカウントはもう存在しません。もう一度ログインしてください
cloud-caller-password-was-reset = パスワードは仮のパスワードに再設定されました。それでログインして変更してください（POST /api/v1/password）
cloud-caller-change-temporary-password = 先に仮のパスワードを変更してください: current と new を付けて POST /api/v1/password
cloud-login-code-first = 先に 2 段階認証のコードを入力してください: POST /api/v1/login/code
cloud-caller-log-in-first = 先にログインしてください: Authorization: Bearer <token> を送信します（POST /api/v1/login で取得できます）
cloud-caller-agent-wrong = エージェント ID またはシークレットが正しくありません（HTTP Basic agent_id:agent_secret）
cloud-export-channel-ids-give = チャンネル ID がありません。カンマ区切りで指定してください（例: /channels/3,7/zip）
cloud-files-agents-only-basic = アップロードはエージェントが行います: HTTP Basic agent_id:agent_secret（エージェントのクラウドログイン）を送信してください
cloud-files-agents-only-token = アップロードはエージェントが HTTP Basic agent_id:agent_secret で行います。ユーザーのトークンでは行えません
cloud-files-disk = サービスがファイル用ディレクトリを読み書きできませんでした。しばらくしてからもう一度お試しください
cloud-invite-invitation-mailed-give = 招待はメールで送られます。ユーザーのメールアドレスを指定するか、`invite` なしでユーザーを作成してください
cloud-invite-no-mail = このサーバーはメールを送信できない（serve --smtp が未設定）ため、メールで招待できません。`invite` なしでユーザーを作成し、仮のパスワードをご自身で伝えてください
cloud-licence-log-authorization-bearer = 先にログインする（Authorization: Bearer <token>）か、エージェントとして HTTP Basic agent_id:agent_secret を送信してください
cloud-licence-card-code-has = カードコードは 100 文字までです
cloud-login-too-long = アカウント、ユーザー、またはパスワードが長すぎます
cloud-login-wrong = アカウント、ユーザー、またはパスワードが正しくありません
cloud-login-no-mail-codes = このサーバーはメールを送信できないため、メールによるログインコードは使えません。2 段階認証の方式を切り替えるよう管理者に依頼してください
cloud-login-second-factor-email = 2 段階認証はメールのコードですが、メールアドレスが登録されていません。管理者に問い合わせてください
cloud-login-login-code-could = ログインコードをメールで送信できませんでした。しばらくしてからもう一度お試しいただくか、管理者に問い合わせてください
cloud-login-api-tokens-need = API トークンにはログインコードは不要です
cloud-login-this-session-waiting = このセッションはコードを待っていません
cloud-login-wrong-expired-code = コードが正しくないか、有効期限が切れています。メールのコードは 10 分間有効です（新しいコードはもう一度ログインすると届きます）
cloud-login-api-token-logged = API トークンはログインしていません。DELETE /api/v1/tokens/{"{"}id{"}"} で取り消してください
cloud-login-change-password-after = パスワードはログインしてから変更してください。API トークンでは変更できません
cloud-login-current-password-wrong = 現在のパスワードが正しくありません
cloud-login-new-password-must = 新しいパスワードは現在のものと異なる必要があります
cloud-login-no-mail-reset = このサーバーはメールを送信できません。アカウントの管理者に仮のパスワードを依頼してください
cloud-login-reset-link-invalid = 再設定リンクが無効、使用済み、または期限切れです（リンクの有効期間は 30 分）。新しいリンクを依頼してください
cloud-login-totp-set-up = 認証アプリはすでに設定されています。新しく設定するには、管理者が 2 段階認証を「なし」に切り替える必要があります
cloud-login-set-up-authenticator = 先に認証アプリを設定してください: POST /api/v1/me/totp
cloud-login-totp-on = 認証アプリはすでに有効です
cloud-login-totp-mismatch = コードが一致しません。アプリの時計を確認し、現在のコードを入力してください
cloud-internal-panic = サービスで内部エラーが発生しました。記録されています。もう一度お試しいただくか、報告してください
cloud-remote-session-only = リモートコマンドには、サインインしたユーザーのセッション（ログイン）が必要です。API トークンでは送れません
cloud-remote-no-broker = このサービスはリモートコマンドを送信しません（ブローカー接続なし）
cloud-users-one-admin = アカウントには少なくとも 1 人の管理者が必要です。先に他の人を管理者にしてください
cloud-users-authenticator-app-set = 認証アプリはユーザー自身が設定します（POST /api/v1/me/totp）。管理者が選べるのは「なし」か「メール」です
cloud-users-no-email = このユーザーにはコード用のメールアドレスがありません。先に設定してください
cloud-users-email-needed = このユーザーはログインコードをメールで受け取るため、メールアドレスを空にできません。先に 2 段階認証の方式を切り替えてください
cloud-users-last-admin = これはアカウントの最後の管理者です。アカウントを閉じるには DELETE /api/v1/account を使ってください
cloud-view-agents-only-basic = 閲覧リンクはエージェントが依頼します: HTTP Basic agent_id:agent_secret（エージェントのクラウドログイン）を送信してください
cloud-view-agents-only-token = 閲覧リンクはエージェントが HTTP Basic agent_id:agent_secret で依頼します。ユーザーのトークンでは依頼できません
