// One section as its bidder sees it: what it must secure and by when, the sub-account reserved for
// it (R4 amount, less its credit reduction), the reminder that cash must come from its basic
// account (R5), and what it has already paid or had issued on this section.
import { Alert, App, Button, Card, Descriptions, Popconfirm, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useParams } from 'react-router';
import { Link } from 'react-router';
import { api, ApiFailure, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad } from '../../components';
import { beijingTime, yuan } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { Deadline, RecordVouchers, SectionFacts, useRecordLayout } from './shared';

/** What the sub-account answer may also carry: the bank and the name of the account to pay. */
interface PayeeDetails {
  accountName?: string;
  bank?: { name: string; bankCode: string };
}

export function BidderSection() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const { user, readOnly } = useSession();
  const bidderId = user?.bidderId ?? '';
  const section = useLoad(async () => unwrap(await api.GET('/v1/sections/{id}', { params: { path: { id } } })), [id]);
  // Counts withdrawals made on this page, so the deposits listed below are read again after one.
  const [withdrawals, setWithdrawals] = useState(0);
  const s = section.data;

  return (
    <>
      <PageTitle>{s ? s.name : t('标段', 'Section')}</PageTitle>
      <ErrorAlert error={section.error} />
      {s && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <SectionFacts section={s} showReductions />
          {s.acceptedSecurity.includes('cash') && bidderId && <PayIn sectionId={s.id} bidderId={bidderId} deadline={s.bidDeadline} />}
          <MineOnSection sectionId={s.id} bidderId={bidderId} version={withdrawals} />
          {bidderId && !readOnly && !finishedStatuses.includes(s.status) && (
            <Withdraw sectionId={s.id} bidderId={bidderId} deadline={s.bidDeadline} onWithdrawn={() => setWithdrawals((n) => n + 1)} />
          )}
        </Space>
      )}
    </>
  );
}

/** A section past these takes no withdrawal: its refunds are already under way or done. */
const finishedStatuses = ['contracted', 'closed', 'terminated'];

/** 撤回投标: the bidder's written notice. Before the deadline everything it paid comes back within
 *  R9's days; after it the centre may keep the deposit or claim on the guarantee (R10), which the
 *  confirmation says before anything is sent. */
function Withdraw({ sectionId, bidderId, deadline, onWithdrawn }: { sectionId: string; bidderId: string; deadline: string; onWithdrawn: () => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<{ withdrawnAt: string; afterDeadline: boolean; refunds: { id: string; dueBy: string; principal: string }[] }>();
  const [busy, setBusy] = useState(false);
  const afterDeadline = new Date(deadline).getTime() <= Date.now();
  async function withdraw() {
    setBusy(true);
    setError(undefined);
    try {
      const w = unwrap(await api.POST('/v1/sections/{id}/withdrawals', { params: { path: { id: sectionId } }, body: { bidderId } }));
      setDone(w);
      onWithdrawn();
      void message.success(t('已撤回投标', 'Bid withdrawn'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Card title={t('撤回投标', 'Withdraw the bid')}>
      {error instanceof ApiFailure && error.code === 'already_withdrawn' ? (
        <Alert type="info" showIcon title={t('本单位已撤回在本标段的投标。', 'You have already withdrawn from this section.')} />
      ) : (
        <ErrorAlert error={error} />
      )}
      {done ? (
        <Space direction="vertical" data-testid="withdrawn">
          <Typography.Text>
            {t(`已于 ${beijingTime(done.withdrawnAt)} 撤回。`, `Withdrawn at ${beijingTime(done.withdrawnAt)}.`)}
            {done.afterDeadline ? t('截止后撤回，保证金可能不予退还（R10）。', 'Withdrawn after the deadline: the deposit may be forfeited (R10).') : ''}
          </Typography.Text>
          {done.refunds.map((r) => (
            <Link key={r.id} to={`/console/refunds/${r.id}`}>
              {t(`退款 ${yuan(r.principal)}，应于 ${r.dueBy} 前退还（R9）`, `Refund of ${yuan(r.principal)}, due by ${r.dueBy} (R9)`)}
            </Link>
          ))}
        </Space>
      ) : (
        <Space direction="vertical">
          <Typography.Text type="secondary">
            {afterDeadline
              ? t('投标截止后撤回的，保证金可不予退还、保函可被索赔（R10）。', 'Withdrawing after the deadline lets the centre keep the deposit or claim on the guarantee (R10).')
              : t('截止前撤回，已缴保证金将在规定期限内原路退还（R9）。', 'Withdrawn before the deadline, the deposit comes back to the account it came from within the set days (R9).')}
          </Typography.Text>
          <Popconfirm
            title={t('确认撤回投标？', 'Withdraw the bid?')}
            description={
              afterDeadline
                ? t('截止时间已过：保证金可能不予退还。撤回后不能恢复。', 'The deadline has passed: the deposit may be forfeited. This cannot be undone.')
                : t('撤回后不能恢复。', 'This cannot be undone.')
            }
            okText={t('撤回', 'Withdraw')}
            cancelText={t('取消', 'Cancel')}
            okButtonProps={{ danger: true }}
            onConfirm={withdraw}
          >
            <Button danger loading={busy}>
              {t('撤回投标', 'Withdraw the bid')}
            </Button>
          </Popconfirm>
        </Space>
      )}
    </Card>
  );
}

/** The sub-account: the API answers the same account every time, opening it on first asking. */
function PayIn({ sectionId, bidderId, deadline }: { sectionId: string; bidderId: string; deadline: string }) {
  const { t } = useLang();
  const layout = useRecordLayout();
  const account = useLoad(
    async () => unwrap(await api.POST('/v1/sections/{id}/deposit-accounts', { params: { path: { id: sectionId } }, body: { bidderId } })),
    [sectionId, bidderId],
  );
  const me = useLoad(async () => unwrap(await api.GET('/v1/bidders/{id}', { params: { path: { id: bidderId } } })), [bidderId]);
  const a = account.data;
  const payee = a as (typeof a & PayeeDetails) | undefined;
  const closed = account.error instanceof ApiFailure && account.error.code === 'section_closed';
  return (
    <Card title={t('保证金缴款账户', 'Where to pay the deposit')}>
      {closed ? (
        <Alert type="info" showIcon title={t('投标截止时间已过，不再开立缴款子账号。', 'The bid deadline has passed: no new sub-account is opened.')} />
      ) : (
        <ErrorAlert error={account.error} />
      )}
      {a && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Descriptions layout={layout} column={1} size="small" bordered>
            <Descriptions.Item label={t('缴款子账号', 'Sub-account number')}>
              <Typography.Text copyable strong style={{ fontSize: 18, fontVariantNumeric: 'tabular-nums' }} data-testid="virtual-account">
                {a.virtualAccount}
              </Typography.Text>
            </Descriptions.Item>
            {payee?.accountName && <Descriptions.Item label={t('户名', 'Account name')}>{payee.accountName}</Descriptions.Item>}
            {payee?.bank && (
              <Descriptions.Item label={t('开户银行', 'Bank')}>
                {payee.bank.name}
                <Typography.Text type="secondary"> ({t('行号', 'code')} {payee.bank.bankCode})</Typography.Text>
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t('应缴金额', 'Amount to secure')}>
              <Space direction="vertical" size={0}>
                <Typography.Text strong data-testid="required-amount">
                  <Money amount={a.requiredAmount} />
                </Typography.Text>
                {a.creditReduction && (
                  <Typography.Text type="secondary">
                    {t(
                      `原应缴 ${yuan(a.creditReduction.fullAmount)}；信用等级 ${a.creditReduction.grade}（${a.creditReduction.source}，有效至 ${a.creditReduction.validTo}）减免 ${a.creditReduction.percent}%`,
                      `Full amount ${yuan(a.creditReduction.fullAmount)}; credit grade ${a.creditReduction.grade} (${a.creditReduction.source}, valid to ${a.creditReduction.validTo}) takes ${a.creditReduction.percent}% off`,
                    )}
                  </Typography.Text>
                )}
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('到账截止', 'Must arrive by')}>
              <Deadline at={deadline} />
            </Descriptions.Item>
          </Descriptions>
          <Alert
            type="warning"
            showIcon
            title={t('请从本单位登记的基本存款账户转账（R5）', 'Pay from your registered basic account (R5)')}
            description={
              <Space direction="vertical" size={0}>
                <span>
                  {t(
                    '从其他账户转入的款项不能作为投标保证金，将原路退回。以银行记账时间为准，须在投标截止时间前到账（R3）。',
                    'Money from any other account does not secure the bid and is sent back. It must be booked by the bank before the bid deadline (R3).',
                  )}
                </span>
                {me.data && (
                  <span data-testid="basic-account">
                    {t('基本账户：', 'Basic account: ')}
                    {me.data.basicAccount.name} · {me.data.basicAccount.number} · {t('行号', 'bank code')} {me.data.basicAccount.bankCode}
                  </span>
                )}
              </Space>
            }
          />
        </Space>
      )}
    </Card>
  );
}

function MineOnSection({ sectionId, bidderId, version }: { sectionId: string; bidderId: string; version: number }) {
  const { t } = useLang();
  const mine = useLoad(async () => {
    const [deposits, guarantees] = await Promise.all([
      api.GET('/v1/deposits', { params: { query: { sectionId, bidderId: bidderId || undefined, limit: 100 } } }).then(unwrap),
      api.GET('/v1/guarantees', { params: { query: { sectionId, bidderId: bidderId || undefined, limit: 100 } } }).then(unwrap),
    ]);
    return { deposits: deposits.data, guarantees: guarantees.data };
  }, [sectionId, bidderId, version]);
  return (
    <Card title={t('我在本标段的担保', 'My security on this section')}>
      <ErrorAlert error={mine.error} />
      <Table
        aria-label={t('本标段的保证金', 'Deposits on this section')}
        size="small"
        rowKey="id"
        loading={mine.loading}
        pagination={false}
        scroll={{ x: 'max-content' }}
        dataSource={mine.data?.deposits ?? []}
        locale={{ emptyText: <Typography.Text type="secondary">{t('尚未收到保证金', 'No deposit received yet')}</Typography.Text> }}
        columns={[
          { title: t('保证金', 'Deposit'), dataIndex: 'id', render: (v: string) => <Link to={`/console/deposits/${v}`}>{v}</Link> },
          { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
          { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (v: string) => <Money amount={v} /> },
          { title: t('到账时间', 'Booked'), key: 'booked', render: (_, d) => beijingTime(d.credit.bookedAt) },
          { title: t('凭证', 'Vouchers'), key: 'vouchers', render: (_, d) => <RecordVouchers record={d} /> },
        ]}
      />
      {(mine.data?.guarantees.length ?? 0) > 0 && (
        <Table
          style={{ marginTop: 16 }}
          aria-label={t('本标段的保函', 'Guarantees on this section')}
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: 'max-content' }}
          dataSource={mine.data?.guarantees ?? []}
          columns={[
            { title: t('保函编号', 'Guarantee number'), key: 'number', render: (_, g) => <Link to={`/console/guarantees/${g.id}`}>{g.number}</Link> },
            { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
            { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (v: string) => <Money amount={v} /> },
            { title: t('有效期', 'Valid'), key: 'valid', render: (_, g) => `${g.validFrom} ~ ${g.validTo}` },
          ]}
        />
      )}
    </Card>
  );
}
