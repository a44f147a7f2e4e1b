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

## Durations in mails
mail-span-h-min = { $h } 時間 { $min } 分
mail-span-min-s = { $min } 分 { $s } 秒
mail-span-s = { $s } 秒

## Agent offline / back online (the cloud's own alarms)
mail-offline-subject = Meterdeck: エージェント { $name } がオフラインです
mail-offline-what = アカウント { $account } のエージェント { $name } ({ $id }) から { $since } 以降応答がありません ({ $silent }。アカウントの上限は { $limit })。
mail-offline-then = クラウドへの接続が切れたか、送信が止まっています。動作していれば計測を続け、ローカルに保存しています。電源、ネットワーク、meterdeck-agent サービスを確認してください。復帰したら再度お知らせします。
mail-online-subject = Meterdeck: エージェント { $name } がオンラインに戻りました
mail-online-what = アカウント { $account } のエージェント { $name } ({ $id }) がオンラインに戻りました ({ $at })。
mail-online-what-after = アカウント { $account } のエージェント { $name } ({ $id }) が { $offline } のオフラインの後、オンラインに戻りました ({ $at })。
mail-online-then = その間の計測値はローカルのバッファから自動的にクラウドへ送られます。

## Licence reminders and storage notices
mail-days-left = 残り { $n } 日です。
mail-licence-ends-subject = Meterdeck: アカウント { $account } の { $plan } ライセンスは { $end } に終了します
mail-licence-ends = アカウント { $account } の { $plan } ライセンスは { $end } に終了します。終了後は Free に戻ります: ストレージ 5 GB、ユーザー 3 人、計測グループ 1 つ、データ保持 1 年。プランを維持するには、それまでにライセンスカードを適用してください。
mail-licence-ended-subject = Meterdeck: アカウント { $account } の { $plan } ライセンスが終了しました
mail-licence-ended = アカウント { $account } の { $plan } ライセンスは { $end } に終了し、現在 Free です。Free の 5 GB を超えるデータには通知が送られ、減らさなければ 31 日後に削除されます。{ $plan } に戻すにはライセンスカードを適用してください。
mail-gateway-ends-subject = Meterdeck: ゲートウェイ { $agent } の { $plan } ライセンスは { $end } に終了します
mail-gateway-ends = ゲートウェイ { $agent } (アカウント { $account }) の { $plan } ライセンスは { $end } に終了します。終了後、ゲートウェイは送信を停止します (データはローカルに保持されます)。それまでにカードを適用してください。
mail-gateway-ended-subject = Meterdeck: ゲートウェイ { $agent } の { $plan } ライセンスが終了しました
mail-gateway-ended = ゲートウェイ { $agent } (アカウント { $account }) の { $plan } ライセンスは { $end } に終了し、送信を停止しました。再開するには { $resume } までにカードを適用してください。それを過ぎると登録が削除されます (送信済みのデータはアカウントに残ります)。
mail-pruned = { $channels } の { $size } ({ $parts } パート、{ $samples } サンプル、{ $from } から { $to } まで)
mail-old-deleted-subject = Meterdeck: アカウント { $account } の古いデータを削除しました
mail-old-deleted = { $days } 日より古いデータを削除しました ({ $plan } プランの保持期間): { $what }。
mail-over-subject = Meterdeck: アカウント { $account } がストレージ容量を超えています
mail-over = { $used } を保存中で、{ $plan } プランの容量は { $cap } です。減らさなければ、超過分の古いデータから { $deadline } 以降に削除されます (データをエクスポートして削除するか、ライセンスカードを適用してください)。
mail-over-deleted-subject = Meterdeck: アカウント { $account } のデータを削除しました (容量超過)
mail-over-deleted = { $since } から { $plan } プランの { $cap } を超えていたため、{ $what } を削除しました。
## アラームメールの閲覧専用リンク（30 分間有効、サインイン不要）
mail-view-link = 表示（30 分間有効）: { $url }
## クラウドアラーム: 確認されるまでの再通知
mail-reminder-subject = 再通知 { $n }: { $subject }
mail-reminder-what = まだ確認されていません ({ $since } に発生)。
mail-alarm-ack-hint = ポータルのアラームページまたはアプリのクラウド画面で誰かが確認するまで、{ $every } 分ごとに再通知します。
