// The bidder's deposits: each credit it paid, whether it secures the bid and why (each rule's
// result), its vouchers; and one deposit's page with where the money came from and its refunds.
import { Card, Descriptions, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, StatusTag, useLoad } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, pageSize, RecordVouchers, RefundReason, SectionName, useCursorList, useRecordLayout } from './shared';

const depositStatuses = ['received', 'valid', 'invalid', 'suspense', 'forfeited', 'refunded', 'held'] as const;
type DepositStatus = (typeof depositStatuses)[number];

/** The first failed rule in plain words, or that every rule passed. */
function Verdict({ checks }: { checks: readonly { rule: string; ok: boolean }[] }) {
  const { t } = useLang();
  const failed = checks.filter((c) => !c.ok).map((c) => c.rule);
  if (!checks.length) return <Typography.Text type="secondary">{t('待校验', 'not checked yet')}</Typography.Text>;
  if (!failed.length) return <Typography.Text style={{ color: '#1b5e20' }}>{t(`✓ ${checks.length} 项规则均通过`, `✓ all ${checks.length} rules passed`)}</Typography.Text>;
  return <Typography.Text style={{ color: '#a11d1d' }}>{t(`✗ 未通过：${failed.join('、')}`, `✗ failed: ${failed.join(', ')}`)}</Typography.Text>;
}

export function BidderDeposits() {
  const { t } = useLang();
  const { user } = useSession();
  const [status, setStatus] = useState<DepositStatus | undefined>();
  const bidderId = user?.bidderId ?? undefined;
  const list = useCursorList(
    async (cursor) => unwrap(await api.GET('/v1/deposits', { params: { query: { limit: pageSize, cursor, status, bidderId } } })),
    [status, bidderId],
  );
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <>
      <PageTitle>{t('我的保证金', 'My deposits')}</PageTitle>
      <Card>
        <Space style={{ marginBottom: 12 }} wrap>
          <label htmlFor="deposit-status-filter">{t('状态', 'Status')}</label>
          <Select<DepositStatus | 'all'>
            id="deposit-status-filter"
            style={{ width: 160 }}
            value={status ?? 'all'}
            onChange={(v) => setStatus(v === 'all' ? undefined : v)}
            options={[{ value: 'all', label: t('全部', 'All') }, ...depositStatuses.map((s) => ({ value: s, label: <StatusTag status={s} /> }))]}
          />
        </Space>
        <CursorTable<Row>
          list={list}
          rowKey="id"
          caption={t('保证金列表', 'Deposits')}
          columns={[
            { title: t('保证金', 'Deposit'), dataIndex: 'id', render: (v: string) => <Link to={`/console/deposits/${v}`}>{t('详情', 'Details')} {v.slice(-6)}</Link> },
            { title: t('标段', 'Section'), dataIndex: 'sectionId', render: (v: string | null) => <SectionName id={v} base="sections" /> },
            { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
            { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (v: string) => <Money amount={v} /> },
            { title: t('到账时间', 'Booked'), key: 'booked', render: (_, d) => beijingTime(d.credit.bookedAt) },
            { title: t('规则校验', 'Rules'), key: 'checks', render: (_, d) => <Verdict checks={d.checks} /> },
            { title: t('凭证', 'Vouchers'), key: 'vouchers', render: (_, d) => <RecordVouchers record={d} /> },
          ]}
        />
      </Card>
    </>
  );
}

export function BidderDeposit() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const layout = useRecordLayout();
  const loaded = useLoad(async () => unwrap(await api.GET('/v1/deposits/{id}', { params: { path: { id } } })), [id]);
  const d = loaded.data;
  return (
    <>
      <PageTitle>{t('保证金详情', 'Deposit')}</PageTitle>
      <ErrorAlert error={loaded.error} />
      {d && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Card>
            <Descriptions layout={layout} column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
              <Descriptions.Item label={t('编号', 'Id')}>{d.id}</Descriptions.Item>
              <Descriptions.Item label={t('状态', 'Status')}>
                <span data-testid="deposit-status">
                  <StatusTag status={d.status} />
                </span>
              </Descriptions.Item>
              <Descriptions.Item label={t('标段', 'Section')}>
                <SectionName id={d.sectionId} base="sections" />
              </Descriptions.Item>
              <Descriptions.Item label={t('到账金额', 'Amount received')}>
                <Money amount={d.amount} />
              </Descriptions.Item>
              <Descriptions.Item label={t('用于担保', 'Securing the bid')}>
                <Money amount={d.secured} />
              </Descriptions.Item>
              <Descriptions.Item label={t('多缴（退回）', 'Excess (returned)')}>
                <Money amount={d.excess} />
              </Descriptions.Item>
              <Descriptions.Item label={t('银行记账时间', 'Booked by the bank')}>
                {beijingTime(d.credit.bookedAt)}
                {d.credit.bookingDateOnly ? t('（仅日期）', ' (date only)') : ''}
              </Descriptions.Item>
              <Descriptions.Item label={t('起息日', 'Value date')}>{d.credit.valueDate}</Descriptions.Item>
              <Descriptions.Item label={t('付款账户', 'Paid from')}>
                {d.credit.debtor.name} · {d.credit.debtor.accountNumber}
              </Descriptions.Item>
              <Descriptions.Item label={t('缴入子账号', 'Paid into')}>{d.virtualAccount}</Descriptions.Item>
              <Descriptions.Item label={t('生效时间', 'Valid since')}>{beijingTime(d.validAt)}</Descriptions.Item>
              <Descriptions.Item label={t('凭证', 'Vouchers')}>
                <RecordVouchers record={d} />
              </Descriptions.Item>
              {d.forfeiture && (
                <Descriptions.Item label={t('不予退还', 'Forfeited')}>
                  {d.forfeiture.reason} · {beijingTime(d.forfeiture.decidedAt)}
                </Descriptions.Item>
              )}
              {d.held && (
                <Descriptions.Item label={t('暂挂原因', 'Held because')}>
                  {d.held.reason}
                </Descriptions.Item>
              )}
            </Descriptions>
          </Card>
          <Card title={t('规则校验结果', 'What each rule found')}>
            <RuleChecks checks={d.checks} />
          </Card>
          <Card title={t('退款', 'Refunds')}>
            <Table
              aria-label={t('本笔保证金的退款', 'Refunds of this deposit')}
              size="small"
              rowKey="id"
              pagination={false}
              scroll={{ x: 'max-content' }}
              dataSource={d.refunds}
              locale={{ emptyText: <Typography.Text type="secondary">{t('尚无退款', 'No refund yet')}</Typography.Text> }}
              columns={[
                { title: t('退款', 'Refund'), dataIndex: 'id', render: (v: string) => <Link to={`/console/refunds/${v}`}>{t('详情', 'Details')} {v.slice(-6)}</Link> },
                { title: t('原因', 'Why'), dataIndex: 'reason', render: (v: string) => <RefundReason reason={v} /> },
                { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
                { title: t('应退日期', 'Due by'), dataIndex: 'dueBy' },
                { title: t('本息合计', 'With interest'), key: 'total', align: 'right', render: (_, r) => <Money amount={r.total ?? r.principal} /> },
              ]}
            />
          </Card>
        </Space>
      )}
    </>
  );
}
