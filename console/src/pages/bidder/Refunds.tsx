// The bidder's refunds: when each is due (R9, R11, R16), how far it is, principal with interest
// (R13), and the account it goes to, which is only ever the one the money came from (R17).
import { Card, Descriptions, Space, Table, Tag, Typography } from 'antd';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, pageSize, RecordVouchers, RefundReason, SectionName, useCursorList, useRecordLayout } from './shared';

function DueBy({ dueBy, provisional, overdue }: { dueBy: string; provisional: boolean; overdue: boolean }) {
  const { t } = useLang();
  return (
    <Space size="small" wrap>
      <span>{dueBy}</span>
      {overdue && <Tag color="red">{t('已逾期', 'overdue')}</Tag>}
      {provisional && <Tag>{t('暂按周末计算', 'provisional')}</Tag>}
    </Space>
  );
}

function Account({ a }: { a: { number: string; name: string; bankCode: string | null } }) {
  const { t } = useLang();
  return (
    <span>
      {a.name} · {a.number}
      {a.bankCode ? ` · ${t('行号', 'bank code')} ${a.bankCode}` : ''}
    </span>
  );
}

export function BidderRefunds() {
  const { t } = useLang();
  const { user } = useSession();
  const bidderId = user?.bidderId ?? undefined;
  const list = useCursorList(async (cursor) => unwrap(await api.GET('/v1/refunds', { params: { query: { limit: pageSize, cursor, bidderId } } })), [bidderId]);
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <>
      <PageTitle>{t('我的退款', 'My refunds')}</PageTitle>
      <Card>
        <Typography.Paragraph type="secondary">
          {t('退款只退回原付款账户（R17），并按同期存款利率计息（R13）。', 'A refund goes only to the account the money came from (R17), with interest (R13).')}
        </Typography.Paragraph>
        <CursorTable<Row>
          list={list}
          rowKey="id"
          caption={t('退款列表', 'Refunds')}
          columns={[
            { title: t('退款', 'Refund'), dataIndex: 'id', render: (v: string) => <Link to={`/console/refunds/${v}`}>{t('详情', 'Details')} {v.slice(-6)}</Link> },
            { title: t('标段', 'Section'), dataIndex: 'sectionId', render: (v: string | null) => <SectionName id={v} base="sections" /> },
            { title: t('原因', 'Why'), dataIndex: 'reason', render: (v: string) => <RefundReason reason={v} /> },
            { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
            { title: t('应退日期', 'Due by'), key: 'due', render: (_, r) => <DueBy dueBy={r.dueBy} provisional={r.dueByProvisional} overdue={r.overdue} /> },
            { title: t('本金', 'Principal'), dataIndex: 'principal', align: 'right', render: (v: string) => <Money amount={v} /> },
            { title: t('利息', 'Interest'), dataIndex: 'interest', align: 'right', render: (v: string | null) => <Money amount={v} /> },
            { title: t('本息合计', 'Total'), dataIndex: 'total', align: 'right', render: (v: string | null) => <Money amount={v} /> },
            { title: t('退至账户', 'To account'), key: 'creditor', render: (_, r) => <Account a={r.creditor} /> },
            { title: t('凭证', 'Vouchers'), key: 'vouchers', render: (_, r) => <RecordVouchers record={r} /> },
          ]}
        />
      </Card>
    </>
  );
}

export function BidderRefund() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const layout = useRecordLayout();
  const loaded = useLoad(async () => unwrap(await api.GET('/v1/refunds/{id}', { params: { path: { id } } })), [id]);
  const r = loaded.data;
  return (
    <>
      <PageTitle>{t('退款详情', 'Refund')}</PageTitle>
      <ErrorAlert error={loaded.error} />
      {r && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Card>
            <Descriptions layout={layout} column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
              <Descriptions.Item label={t('状态', 'Status')}>
                <StatusTag status={r.status} />
              </Descriptions.Item>
              <Descriptions.Item label={t('原因', 'Why')}>
                <RefundReason reason={r.reason} />
              </Descriptions.Item>
              <Descriptions.Item label={t('标段', 'Section')}>
                <SectionName id={r.sectionId} base="sections" />
              </Descriptions.Item>
              <Descriptions.Item label={t('保证金', 'Deposit')}>
                <Link to={`/console/deposits/${r.depositId}`}>{r.depositId}</Link>
              </Descriptions.Item>
              <Descriptions.Item label={t('应退日期', 'Due by')}>
                <DueBy dueBy={r.dueBy} provisional={r.dueByProvisional} overdue={r.overdue} />
              </Descriptions.Item>
              <Descriptions.Item label={t('退款日', 'Value date')}>{r.valueDate ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('本金', 'Principal')}>
                <Money amount={r.principal} />
              </Descriptions.Item>
              <Descriptions.Item label={t('利息（R13）', 'Interest (R13)')}>
                <Money amount={r.interest} />
              </Descriptions.Item>
              {r.lateFee && r.lateFee !== '0.00' && (
                <Descriptions.Item label={t('逾期补偿', 'Late fee')}>
                  <Money amount={r.lateFee} />
                </Descriptions.Item>
              )}
              <Descriptions.Item label={t('本息合计', 'Total')}>
                <Money amount={r.total} />
              </Descriptions.Item>
              <Descriptions.Item label={t('退至账户（R17 原路退回）', 'To account (R17: where it came from)')}>
                <Account a={r.creditor} />
              </Descriptions.Item>
              <Descriptions.Item label={t('到账时间', 'Settled')}>{beijingTime(r.settledAt)}</Descriptions.Item>
              {r.manualReason && <Descriptions.Item label={t('人工处理原因', 'Manual handling')}>{r.manualReason}</Descriptions.Item>}
              <Descriptions.Item label={t('凭证', 'Vouchers')}>
                <RecordVouchers record={r} />
              </Descriptions.Item>
            </Descriptions>
          </Card>
          {r.attempts && r.attempts.length > 0 && (
            <Card title={t('银行划款记录', 'Bank transfers')}>
              <Table
                aria-label={t('银行划款记录', 'Bank transfers')}
                size="small"
                rowKey="id"
                pagination={false}
                scroll={{ x: 'max-content' }}
                dataSource={r.attempts}
                columns={[
                  { title: t('次序', 'No.'), dataIndex: 'seq' },
                  { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
                  { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (v: string) => <Money amount={v} /> },
                  { title: t('发送时间', 'Sent'), dataIndex: 'sentAt', render: (v: string | null) => beijingTime(v) },
                  { title: t('银行答复', 'Bank answer'), key: 'bank', render: (_, a) => [a.bankStatus, a.reasonCode, a.reasonText].filter(Boolean).join(' · ') || '—' },
                ]}
              />
            </Card>
          )}
        </Space>
      )}
    </>
  );
}
