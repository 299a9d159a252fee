// Deposits: one deposit with its credit, rule checks, refunds, ledger and vouchers, and the
// centre's decisions on it (a suspense credit returned, a held deposit judged on time or late);
// and the list of credits waiting for a person (suspense, held).
import { Form, Input, Radio, Select, Typography } from 'antd';
import { useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, StatusTag, useLoad, VoucherLinks } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { NoRows } from '../../components';
import { CursorTable, DecisionForm, Facts, hrefOf, IdLink, loadVouchers, type DepositSummary, DataTable } from './common';
import { refundColumns } from './Refunds';

const waitingStatuses = ['suspense', 'held'] as const;

export function SuspenseList() {
  const { t } = useLang();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') === 'held' ? 'held' : 'suspense';
  return (
    <>
      <PageTitle>{t('待查与待裁定款项', 'Suspense and held credits')}</PageTitle>
      <Form layout="inline" style={{ marginBottom: 12 }}>
        <Form.Item label={t('类别', 'Kind')} htmlFor="suspense-kind">
          <Select
            id="suspense-kind"
            style={{ width: 260 }}
            value={status}
            onChange={(v) => setParams({ status: v }, { replace: true })}
            options={waitingStatuses.map((s) => ({ value: s, label: s === 'suspense' ? t('待查（未知子账户，R15）', 'Suspense (unknown sub-account, R15)') : t('待裁定到账时间（R3）', 'Held for an R3 decision') }))}
          />
        </Form.Item>
      </Form>
      <CursorTable<DepositSummary>
        key={status}
        label={t('款项列表', 'Credits')}
        rowKey="id"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/deposits', { params: { query: { status, cursor, limit } } }))}
        columns={[
          { title: t('编号', 'Id'), dataIndex: 'id', render: (id: string) => <IdLink id={id} to={hrefOf.deposit(id)} /> },
          { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string) => <Money amount={a} /> },
          { title: t('付款人', 'Payer'), dataIndex: ['credit', 'debtor'], render: (p: { name: string; accountNumber: string }) => `${p.name} ${p.accountNumber}` },
          { title: t('收款子账户', 'Sub-account paid'), dataIndex: 'virtualAccount' },
          { title: t('附言', 'Remittance'), dataIndex: ['credit', 'remittance'], render: (r: string | null) => r ?? '—' },
          { title: t('到账时间', 'Booked at'), dataIndex: ['credit', 'bookedAt'], render: (s: string) => beijingTime(s) },
        ]}
      />
    </>
  );
}

export function DepositDetail() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const deposit = useLoad(async () => unwrap(await api.GET('/v1/deposits/{id}', { params: { path: { id } } })), [id]);
  const vouchers = useLoad(() => loadVouchers(id), [id]);
  const d = deposit.data;
  const reload = () => {
    deposit.reload();
    vouchers.reload();
  };
  return (
    <>
      <PageTitle>
        {t('保证金', 'Deposit')} <span style={{ fontFamily: 'monospace', fontSize: 16 }}>{id}</span>
      </PageTitle>
      <ErrorAlert error={deposit.error} />
      {d ? (
        <>
          <Facts
            items={[
              { key: 'status', label: t('状态', 'Status'), children: <StatusTag status={d.status} /> },
              { key: 'amount', label: t('到账金额', 'Amount'), children: <Money amount={d.amount} /> },
              { key: 'secured', label: t('计入担保', 'Secures'), children: <Money amount={d.secured} /> },
              { key: 'excess', label: t('多缴（R4 退还）', 'Excess (returned, R4)'), children: <Money amount={d.excess} /> },
              { key: 'section', label: t('标段', 'Section'), children: <IdLink id={d.sectionId} to={d.sectionId ? hrefOf.section(d.sectionId) : undefined} /> },
              { key: 'bidder', label: t('投标人', 'Bidder'), children: <IdLink id={d.bidderId} to={d.bidderId ? hrefOf.registry(d.bidderId) : undefined} /> },
              { key: 'va', label: t('收款子账户', 'Sub-account'), children: d.virtualAccount },
              { key: 'payer', label: t('付款账户', 'Paid from'), children: `${d.credit.debtor.name} · ${d.credit.debtor.accountNumber} · ${d.credit.debtor.bankCode ?? '—'}` },
              { key: 'booked', label: t('银行记账时间（R3）', 'Booked by the bank (R3)'), children: `${beijingTime(d.credit.bookedAt)}${d.credit.bookingDateOnly ? t('（仅日期）', ' (date only)') : ''}` },
              { key: 'value', label: t('起息日', 'Value date'), children: d.credit.valueDate },
              { key: 'remittance', label: t('附言', 'Remittance'), children: d.credit.remittance ?? '—' },
              { key: 'entry', label: t('银行流水', 'Bank entry'), children: d.credit.entryRef },
              ...(d.held ? [{ key: 'held', label: t('待裁定原因', 'Held because'), children: d.held.reason }] : []),
              ...(d.forfeiture ? [{ key: 'forfeit', label: t('不予退还（R12）', 'Forfeited (R12)'), children: `${d.forfeiture.reason} · ${d.forfeiture.decidedBy ?? '—'} · ${beijingTime(d.forfeiture.decidedAt)}` }] : []),
              { key: 'vouchers', label: t('凭证', 'Vouchers'), children: <VoucherLinks vouchers={vouchers.data} /> },
            ]}
          />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('规则校验', 'Rule checks')}
          </Typography.Title>
          <RuleChecks checks={d.checks} />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('退款', 'Refunds')}
          </Typography.Title>
          <DataTable label={t('本保证金的退款', 'Refunds of this deposit')} size="small" rowKey="id" pagination={false} dataSource={d.refunds} columns={refundColumns(t)} locale={{ emptyText: <NoRows text={t('无', 'None')} /> }} />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('账务分录', 'Ledger journals')}
          </Typography.Title>
          <DataTable label={t('账务分录', 'Ledger journals')}
            size="small"
            rowKey="journalId"
            pagination={false}
           
            dataSource={d.ledger}
            columns={[
              { title: t('时间', 'Posted'), dataIndex: 'postedAt', render: (s: string) => beijingTime(s) },
              { title: t('类型', 'Kind'), dataIndex: 'kind' },
              { title: t('摘要', 'Memo'), dataIndex: 'memo', render: (m: string) => <div style={{ maxWidth: 360, whiteSpace: 'normal' }}>{m}</div> },
              {
                title: t('分录', 'Postings'),
                dataIndex: 'postings',
                render: (ps: { account: string; amount: string; side: string }[]) => (
                  <div>
                    {ps.map((p, i) => (
                      <div key={i} style={{ fontSize: 12 }}>
                        {p.side === 'debit' ? t('借', 'Dr') : t('贷', 'Cr')} {p.account} <Money amount={p.amount} />
                      </div>
                    ))}
                  </div>
                ),
              },
            ]}
          />
          {d.status === 'suspense' ? (
            <DecisionForm<{ decision: string }>
              name="suspense-return"
              title={t('退回待查款项（R15、R17）', 'Return this suspense credit (R15, R17)')}
              submitText={t('退回原付款账户', 'Return to the payer')}
              confirmTitle={t('确认退回', 'Confirm the return')}
              confirmText={() => t(`将 ${d.amount} 元退回付款账户 ${d.credit.debtor.name} ${d.credit.debtor.accountNumber}。`, `¥${d.amount} goes back to ${d.credit.debtor.name} ${d.credit.debtor.accountNumber}.`)}
              onSubmit={async (v) => unwrap(await api.POST('/v1/deposits/{id}/return', { params: { path: { id } }, body: { decision: v.decision } }))}
              onDone={reload}
            >
              <Form.Item name="decision" label={t('决定与理由', 'Decision and why')} rules={[{ required: true, whitespace: true, max: 1000 }]}>
                <Input.TextArea rows={2} maxLength={1000} />
              </Form.Item>
            </DecisionForm>
          ) : null}
          {d.status === 'held' ? (
            <DecisionForm<{ decision: 'on_time' | 'late'; note: string }>
              name="held-decision"
              title={t('裁定到账是否及时（R3）', 'Decide whether it arrived in time (R3)')}
              submitText={t('提交裁定', 'Record the decision')}
              confirmTitle={t('确认裁定', 'Confirm the decision')}
              confirmText={(v) =>
                v.decision === 'on_time'
                  ? t('按截止前到账处理，继续按 R4、R5 校验。', 'Treated as in time; R4 and R5 are checked as usual.')
                  : t('按逾期到账处理：保证金无效并退回原账户。', 'Treated as late: invalid and returned to its source.')
              }
              onSubmit={async (v) => unwrap(await api.POST('/v1/deposits/{id}/decision', { params: { path: { id } }, body: v }))}
              onDone={reload}
            >
              <Form.Item name="decision" label={t('裁定', 'Decision')} rules={[{ required: true }]}>
                <Radio.Group
                  options={[
                    { value: 'on_time', label: t('截止前到账', 'In time') },
                    { value: 'late', label: t('逾期到账', 'Late') },
                  ]}
                />
              </Form.Item>
              <Form.Item name="note" label={t('依据（银行回单、查询结果）', "Grounds (the bank's receipt, an inquiry)")} rules={[{ required: true, whitespace: true, max: 1000 }]}>
                <Input.TextArea rows={2} maxLength={1000} />
              </Form.Item>
            </DecisionForm>
          ) : null}
        </>
      ) : null}
    </>
  );
}
