### Meterdeck cloud: mails (Japanese).

## Login code (second factor by email)
mail-login-code-subject = Meterdeck のログインコード
mail-login-code-line = { $who } の Meterdeck ログインコードは { $code } です
mail-login-code-valid = 有効期間は 10 分です。ログインしようとしていない場合は、パスワードを変更してください。

## Password reset link
mail-reset-subject = Meterdeck のパスワード再設定
mail-reset-asked = { $who } の Meterdeck パスワードの再設定が依頼されました。
mail-reset-here = 新しいパスワードはこちらで設定してください（30 分間、1 回のみ有効）:
mail-reset-not-you = 心当たりがない場合は、このメールを無視してください。

## Invitation with a temporary password
mail-invite-subject = Meterdeck への招待（{ $account }）
mail-invite-made = { $by } があなたを Meterdeck のユーザー（{ $role }）として登録しました。
mail-invite-sign-in = { $url } に次の情報でサインインしてください
mail-invite-account = アカウント:
mail-invite-user = ユーザー:
mail-invite-password = パスワード:
mail-invite-temporary = このパスワードは仮のものです。最初のサインイン時にご自身のパスワードを設定してください。
mail-invite-unexpected = 心当たりがない場合は、このメールを無視してください。

## Sync traffic notices to the account's admins
mail-traffic-subject = Meterdeck: エージェント { $name } が月間通信量の { $percent } % を使用しました
mail-traffic-full = アカウント { $account } のゲートウェイ { $name }（{ $id }）は、月間同期通信量の上限（{ $allowance }）をすべて使用しました。
mail-traffic-full-then = 送信を停止し、データはローカルに蓄積し続けます。データは失われません。翌月（UTC）の開始時、または Remote Pro カードの適用後（またはプランを Remote Pro に変更した後）に送信を再開します。
mail-traffic-near = アカウント { $account } のエージェント { $name }（{ $id }）は、月間同期通信量 { $allowance } のうち { $used } を送信しました（{ $percent } %）。
mail-traffic-near-then = 同期は続行され、データは失われません。上限内に収めるには、エージェントの送信間隔を長くする（[cloud] セクションの `send_interval`）、記録するチャンネルを減らす、またはゲートウェイのプランを Remote Pro に変更してください。

## アラームメールの閲覧専用リンク（30 分間有効、サインイン不要）
mail-view-link = 表示（30 分間有効）: { $url }
