// Refunds: the list with its filters, and one refund with every attempt, the bank's answers, its
// vouchers and, while it waits for a person (manual, returned), the decision (R17).
import { Checkbox, Form, Input, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad, VoucherLinks } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { NoRows } from '../../components';
import { CursorTable, DecisionForm, Facts, hrefOf, IdLink, loadVouchers, type Refund, DataTable } from './common';

const statuses = ['scheduled', 'submitted', 'settled', 'returned', 'manual'] as const;
type RefundStatus = (typeof statuses)[number];
type RefundRow = Omit<Refund, 'attempts' | 'decisions'>;

/** Why a refund waits for a person, in words. */
const manualWords: Record<string, readonly [string, string]> = {
  account_rejected: ['收款账户被银行拒绝（如已销户、户名不符）', 'The bank refused the account (closed, name mismatch)'],
  attempts_exhausted: ['重试次数已用尽', 'Attempts exhausted'],
  status_unknown: ['银行未告知结果', 'The bank never said what became of it'],
  returned: ['收款行退汇', 'Returned by the payee bank'],
};

export const reasonWords: Record<string, readonly [string, string]> = {
  termination: ['终止招标（R16）', 'Tender terminated (R16)'],
  contract: ['签订合同（R11）', 'Contract signed (R11)'],
  award_non_winner: ['中标通知后退未中标人（R11）', 'Non-winner after the award notice (R11)'],
  withdrawal: ['撤回投标（R9）', 'Bid withdrawn (R9)'],
  invalid: ['不合规款项退回（R15）', 'Credit failing the rules returned (R15)'],
  excess: ['多缴部分退回（R4）', 'Excess returned (R4)'],
  suspense_return: ['待查款项退回（R15）', 'Suspense credit returned (R15)'],
};

export function RefundReason({ reason }: { reason: string }) {
  const { t } = useLang();
  const w = reasonWords[reason];
  return <span>{w ? t(w[0], w[1]) : reason}</span>;
}

export function refundColumns(t: (zh: string, en: string) => string) {
  return [
    { title: t('退款编号', 'Refund'), dataIndex: 'id', render: (id: string) => <IdLink id={id} to={hrefOf.refund(id)} /> },
    { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string, r: RefundRow) => (
      <Space size={4} wrap>
        <StatusTag status={s} />
        {r.overdue ? <Tag color="red">{t('逾期', 'overdue')}</Tag> : null}
      </Space>
    ) },
    { title: t('本金', 'Principal'), dataIndex: 'principal', align: 'right' as const, render: (a: string) => <Money amount={a} /> },
    { title: t('应退日', 'Due by'), dataIndex: 'dueBy', render: (d: string, r: RefundRow) => `${d}${r.dueByProvisional ? t('（暂定）', ' (provisional)') : ''}` },
    { title: t('原因', 'Reason'), dataIndex: 'reason', render: (x: string) => <RefundReason reason={x} /> },
    { title: t('收款账户', 'To account'), dataIndex: 'creditor', render: (c: RefundRow['creditor']) => `${c.name} ${c.number}` },
    { title: t('尝试', 'Attempts'), dataIndex: 'attemptsCount' },
  ];
}

export function RefundList() {
  const { t } = useLang();
  const [params, setParams] = useSearchParams();
  const status = (statuses as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as RefundStatus) : undefined;
  const overdue = params.get('overdue') === 'true' ? 'true' : params.get('overdue') === 'false' ? 'false' : undefined;
  const sectionId = params.get('sectionId') ?? undefined;
  const set = (key: string, value: string | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <>
      <PageTitle>{t('退款', 'Refunds')}</PageTitle>
      <Form layout="inline" style={{ marginBottom: 12, rowGap: 8 }}>
        <Form.Item label={t('状态', 'Status')} htmlFor="refund-status">
          <Select
            id="refund-status"
            allowClear
            style={{ width: 160 }}
            value={status}
            onChange={(v) => set('status', v)}
            placeholder={t('全部', 'All')}
            options={statuses.map((s) => ({ value: s, label: <StatusTag status={s} /> }))}
          />
        </Form.Item>
        <Form.Item label={t('是否逾期', 'Overdue')} htmlFor="refund-overdue">
          <Select
            id="refund-overdue"
            allowClear
            style={{ width: 140 }}
            value={overdue}
            onChange={(v) => set('overdue', v)}
            placeholder={t('全部', 'All')}
            options={[
              { value: 'true', label: t('逾期', 'Overdue') },
              { value: 'false', label: t('未逾期', 'Not overdue') },
            ]}
          />
        </Form.Item>
        {sectionId ? (
          <Form.Item label={t('标段', 'Section')}>
            <IdLink id={sectionId} to={hrefOf.section(sectionId)} />
          </Form.Item>
        ) : null}
      </Form>
      <CursorTable<RefundRow>
        key={`${status}-${overdue}-${sectionId}`}
        label={t('退款列表', 'Refund list')}
        rowKey="id"
        columns={refundColumns(t)}
        load={async (cursor, limit) => unwrap(await api.GET('/v1/refunds', { params: { query: { status, overdue, sectionId, cursor, limit } } }))}
      />
    </>
  );
}

interface RetryValues {
  decision: string;
  otherAccount?: boolean;
  number?: string;
  name?: string;
  bankCode?: string;
}

export function RefundDetail() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const refund = useLoad(async () => unwrap(await api.GET('/v1/refunds/{id}', { params: { path: { id } } })), [id]);
  const vouchers = useLoad(() => loadVouchers(id), [id]);
  const [otherAccount, setOtherAccount] = useState(false);
  const r = refund.data;
  const waiting = r && (r.status === 'manual' || r.status === 'returned');
  return (
    <>
      <PageTitle>
        {t('退款', 'Refund')} <span style={{ fontFamily: 'monospace', fontSize: 16 }}>{id}</span>
      </PageTitle>
      <ErrorAlert error={refund.error} />
      {r ? (
        <>
          <Facts
            items={[
              { key: 'status', label: t('状态', 'Status'), children: <Space wrap><StatusTag status={r.status} />{r.overdue ? <Tag color="red">{t('逾期', 'overdue')}</Tag> : null}</Space> },
              { key: 'reason', label: t('原因', 'Reason'), children: <RefundReason reason={r.reason} /> },
              { key: 'dueBy', label: t('应退日', 'Due by'), children: `${r.dueBy}${r.dueByProvisional ? t('（暂定，日历未覆盖）', ' (provisional: calendar not loaded)') : ''}` },
              { key: 'principal', label: t('本金', 'Principal'), children: <Money amount={r.principal} /> },
              { key: 'interest', label: t('利息（R13）', 'Interest (R13)'), children: <Money amount={r.interest} /> },
              { key: 'lateFee', label: t('逾期利息', 'Late fee'), children: <Money amount={r.lateFee} /> },
              { key: 'total', label: t('合计', 'Total'), children: <Money amount={r.total} /> },
              { key: 'creditor', label: t('收款账户（R17 原路退回）', 'To account (R17: where it came from)'), children: `${r.creditor.name} · ${r.creditor.number} · ${r.creditor.bankCode ?? '—'}` },
              { key: 'deposit', label: t('保证金', 'Deposit'), children: <IdLink id={r.depositId} to={hrefOf.deposit(r.depositId)} /> },
              { key: 'section', label: t('标段', 'Section'), children: <IdLink id={r.sectionId} to={r.sectionId ? hrefOf.section(r.sectionId) : undefined} /> },
              { key: 'bidder', label: t('投标人', 'Bidder'), children: <IdLink id={r.bidderId} to={r.bidderId ? hrefOf.registry(r.bidderId) : undefined} /> },
              { key: 'e2e', label: t('端到端编号', 'End-to-end id'), children: r.endToEndId },
              { key: 'manual', label: t('人工处理原因', 'Manual handling'), children: r.manualCode ? `${manualWords[r.manualCode] ? t(manualWords[r.manualCode][0], manualWords[r.manualCode][1]) : r.manualCode}${r.manualReason ? ` — ${r.manualReason}` : ''}` : '—' },
              { key: 'returned', label: t('退汇', 'Returned'), children: r.returnedAt ? `${beijingTime(r.returnedAt)} ${r.returnReasonCode ?? ''}` : '—' },
              { key: 'settled', label: t('到账时间', 'Settled at'), children: beijingTime(r.settledAt) },
              { key: 'bankRef', label: t('银行流水号', 'Bank reference'), children: r.bankReference ?? '—' },
              { key: 'vouchers', label: t('凭证', 'Vouchers'), children: <VoucherLinks vouchers={vouchers.data} /> },
            ]}
          />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('每次付款尝试与银行回复', 'Every attempt and what the bank answered')}
          </Typography.Title>
          <DataTable label={t('付款尝试', 'Attempts')}
            size="small"
            rowKey="id"
            pagination={false}
           
            dataSource={r.attempts ?? []}
            columns={[
              { title: '#', dataIndex: 'seq' },
              { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
              { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string) => <Money amount={a} /> },
              { title: t('银行状态', 'Bank status'), dataIndex: 'bankStatus', render: (s: string | null) => s ?? '—' },
              { title: t('原因码', 'Reason code'), dataIndex: 'reasonCode', render: (s: string | null) => s ?? '—' },
              { title: t('银行说明', "Bank's words"), dataIndex: 'reasonText', render: (s: string | null) => <div style={{ maxWidth: 280, whiteSpace: 'normal' }}>{s ?? '—'}</div> },
              { title: t('收款账户', 'To account'), dataIndex: 'creditor', render: (c: { name: string; number: string }) => `${c.name} ${c.number}` },
              { title: t('报文编号', 'Message id'), dataIndex: 'messageId' },
              { title: t('发送时间', 'Sent'), dataIndex: 'sentAt', render: (s: string | null) => beijingTime(s) },
              { title: t('结束时间', 'Finished'), dataIndex: 'finishedAt', render: (s: string | null) => beijingTime(s) },
            ]}
          />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('处理决定', 'Decisions')}
          </Typography.Title>
          <DataTable label={t('处理决定', 'Decisions')}
            size="small"
            rowKey="decidedAt"
            pagination={false}
           
            data-testid="refund-decisions"
            dataSource={r.decisions ?? []}
            locale={{ emptyText: <NoRows text={t('尚无决定', 'No decision yet')} /> }}
            columns={[
              { title: t('决定', 'Decision'), dataIndex: 'decision', render: (d: string) => <div style={{ maxWidth: 320, whiteSpace: 'normal' }}>{d}</div> },
              { title: t('改退账户', 'Other account'), dataIndex: 'account', render: (a: { number: string; name: string } | null) => (a ? `${a.name} ${a.number}` : t('原账户', 'Same account')) },
              { title: t('决定人', 'Decided by'), dataIndex: 'decidedBy' },
              { title: t('时间', 'When'), dataIndex: 'decidedAt', render: (s: string) => beijingTime(s) },
            ]}
          />
          {waiting ? (
            <DecisionForm<RetryValues>
              name="refund-decision"
              title={t('人工处理决定（R17）', 'Decision on this refund (R17)')}
              submitText={t('提交决定并重新付款', 'Record the decision and pay again')}
              confirmTitle={t('确认退款决定', 'Confirm the refund decision')}
              confirmText={(v) => (
                <Typography.Paragraph>
                  {v.otherAccount
                    ? t(`将 ${r.principal} 元本金（及利息）改退至 ${v.name} ${v.number}（${v.bankCode}），并记录决定。`, `Pay ¥${r.principal} (and interest) to ${v.name} ${v.number} (${v.bankCode}) instead, with the decision on record.`)
                    : t(`按原账户 ${r.creditor.number} 重新付款，并记录决定。`, `Pay again to ${r.creditor.number}, with the decision on record.`)}
                </Typography.Paragraph>
              )}
              onSubmit={async (v) =>
                unwrap(
                  await api.POST('/v1/refunds/{id}/retry', {
                    params: { path: { id } },
                    body: { decision: v.decision, ...(v.otherAccount && v.number && v.name && v.bankCode ? { account: { number: v.number, name: v.name, bankCode: v.bankCode } } : {}) },
                  }),
                )
              }
              onDone={() => {
                refund.reload();
                vouchers.reload();
              }}
            >
              <Form.Item name="decision" label={t('决定与理由', 'Decision and why')} rules={[{ required: true, max: 1000, whitespace: true, message: t('请写明决定与理由', 'Say what was decided and why') }]}>
                <Input.TextArea rows={3} maxLength={1000} />
              </Form.Item>
              <Form.Item name="otherAccount" valuePropName="checked">
                <Checkbox onChange={(e) => setOtherAccount(e.target.checked)}>{t('改退至其他账户（须有书面决定）', 'Pay to another account (needs a written decision)')}</Checkbox>
              </Form.Item>
              {otherAccount ? (
                <>
                  <Form.Item name="name" label={t('户名', 'Account name')} rules={[{ required: true, max: 200 }]}>
                    <Input />
                  </Form.Item>
                  <Form.Item name="number" label={t('账号', 'Account number')} rules={[{ required: true, pattern: /^\d{6,32}$/, message: t('6–32 位数字', '6–32 digits') }]}>
                    <Input inputMode="numeric" />
                  </Form.Item>
                  <Form.Item name="bankCode" label={t('开户行联行号', 'Bank code (CNAPS)')} rules={[{ required: true, pattern: /^\d{12}$/, message: t('12 位数字', '12 digits') }]}>
                    <Input inputMode="numeric" />
                  </Form.Item>
                </>
              ) : null}
            </DecisionForm>
          ) : null}
          <Typography.Paragraph style={{ marginTop: 16 }}>
            <Link to="/console/refunds">{t('返回退款列表', 'Back to refunds')}</Link>
          </Typography.Paragraph>
        </>
      ) : null}
    </>
  );
}
