// One reconciliation: its balances and statement, each exception beside the ledger's entry with
// the decision on it, and every statement line, paged.
import { Button, Form, Input, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, useLoad, VoucherLinks } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { NoRows } from '../../components';
import { useSession } from '../../session';
import { DataTable, DecisionForm, Facts, hrefOf, IdLink, JsonFacts, loadVouchers } from './common';
import { ResultTag, useWords, type BankSide, type ExceptionRow, type LedgerSide, type LineRow, type Report } from './Reconciliations';

/** Statement lines shown per page of a report. */
export const reportLinesPerPage = 50;

function BankCell({ bank }: { bank: BankSide | null | undefined }) {
  const { t } = useLang();
  if (!bank) return <Typography.Text type="secondary">{t('银行无此笔', 'Not at the bank')}</Typography.Text>;
  return (
    <div style={{ minWidth: 200 }}>
      <div>
        {bank.direction === 'credit' ? t('收', 'In') : t('付', 'Out')} <Money amount={bank.amount} />
        {bank.reversal ? <Tag style={{ marginLeft: 4 }}>{t('冲正', 'reversal')}</Tag> : null}
      </div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {beijingTime(bank.bookedAt)} · {bank.counterparty.name ?? '—'} {bank.counterparty.accountNumber ?? ''}
        {bank.remittance ? ` · ${bank.remittance}` : ''}
      </Typography.Text>
    </div>
  );
}

function LedgerCell({ ledger }: { ledger: LedgerSide | null | undefined }) {
  const { t } = useLang();
  if (!ledger) return <Typography.Text type="secondary">{t('账上无此笔', 'Not in the ledger')}</Typography.Text>;
  return (
    <div style={{ minWidth: 200 }}>
      <div>
        {ledger.kind} <Money amount={ledger.trustMovement} />
      </div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {beijingTime(ledger.postedAt)} · {ledger.memo} · <span style={{ fontFamily: 'monospace' }}>{ledger.journalId}</span>
      </Typography.Text>
    </div>
  );
}

interface ResolutionValues {
  decision: 'explained' | 'bank_to_correct' | 'corrected';
  note: string;
  memo?: string;
}

function ResolutionForm({ reconciliationId, exception, onDone }: { reconciliationId: string; exception: ExceptionRow; onDone: () => void }) {
  const { t } = useLang();
  const words = useWords();
  const [decision, setDecision] = useState<ResolutionValues['decision']>();
  return (
    <DecisionForm<ResolutionValues>
      name={`resolve-${exception.id}`}
      title={t(`处理差异 #${exception.id}`, `Resolve exception #${exception.id}`)}
      submitText={t('提交处理决定', 'Record the decision')}
      confirmTitle={t('确认差异处理', 'Confirm the resolution')}
      confirmText={(v) => (
        <Typography.Paragraph>
          {words.kind(exception.kind)} {exception.entryRef} <Money amount={exception.amount} />：{words.decision(v.decision)}
          {v.decision === 'corrected' ? t('。将记一笔专户与待查科目之间的更正分录，账务不作修改。', '. A correcting journal between the trust and suspense accounts is posted; nothing is edited.') : ''}
        </Typography.Paragraph>
      )}
      onSubmit={async (v) =>
        unwrap(
          await api.POST('/v1/reconciliations/{id}/exceptions/{exceptionId}/resolution', {
            params: { path: { id: reconciliationId, exceptionId: exception.id } },
            body: { decision: v.decision, note: v.note, ...(v.decision === 'corrected' ? { correction: { counterAccount: 'suspense' as const, ...(v.memo ? { memo: v.memo } : {}) } } : {}) },
          }),
        )
      }
      onDone={onDone}
    >
      <Form.Item name="decision" label={t('处理方式', 'Decision')} rules={[{ required: true, message: t('请选择处理方式', 'Choose a decision') }]}>
        <Select
          onChange={setDecision}
          options={(['explained', 'bank_to_correct', 'corrected'] as const).map((d) => ({ value: d, label: words.decision(d) }))}
        />
      </Form.Item>
      <Form.Item name="note" label={t('说明', 'Note')} rules={[{ required: true, whitespace: true, max: 1000, message: t('请写明理由', 'Say why') }]}>
        <Input.TextArea rows={2} maxLength={1000} />
      </Form.Item>
      {decision === 'corrected' ? (
        <Form.Item name="memo" label={t('更正分录摘要（可选）', 'Journal memo (optional)')} rules={[{ max: 200 }]}>
          <Input maxLength={200} />
        </Form.Item>
      ) : null}
    </DecisionForm>
  );
}

export function ReconciliationDetail() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const words = useWords();
  const [linesCursors, setLinesCursors] = useState<(string | undefined)[]>([undefined]);
  const [exceptionsCursors, setExceptionsCursors] = useState<(string | undefined)[]>([undefined]);
  const linesAfter = linesCursors[linesCursors.length - 1];
  const exceptionsAfter = exceptionsCursors[exceptionsCursors.length - 1];
  const report = useLoad(
    async () =>
      unwrap(await api.GET('/v1/reconciliations/{id}', { params: { path: { id }, query: { linesLimit: reportLinesPerPage, linesAfter, exceptionsAfter } } })) as unknown as Report,
    [id, linesAfter, exceptionsAfter],
  );
  const vouchers = useLoad(() => loadVouchers(id), [id]);
  const [resolving, setResolving] = useState<string>();
  const r = report.data;
  return (
    <>
      <PageTitle
        extra={
          <Typography.Link href={`/v1/reconciliations/${id}.csv`} download>
            {t('下载明细 CSV', 'Download lines as CSV')}
          </Typography.Link>
        }
      >
        {t('对账', 'Reconciliation')} {r?.statementDate ?? ''}
      </PageTitle>
      <ErrorAlert error={report.error} />
      {r ? (
        <>
          <Facts
            items={[
              { key: 'result', label: t('结果', 'Result'), children: <ResultTag status={r.status} /> },
              { key: 'open', label: t('未处理差异', 'Open exceptions'), children: <span data-testid="rcn-open">{r.openExceptions}</span> },
              { key: 'bank', label: t('存款银行', 'Bank'), children: <IdLink id={r.bankId} to={hrefOf.registry(r.bankId)} /> },
              { key: 'opening', label: t('期初余额', 'Opening balance'), children: <Money amount={r.balances.opening} /> },
              { key: 'closingBank', label: t('银行期末余额', 'Bank closing balance'), children: <Money amount={r.balances.closingBank} /> },
              { key: 'closingLedger', label: t('账面期末余额', 'Ledger closing balance'), children: <Money amount={r.balances.closingLedger} /> },
              { key: 'difference', label: t('差额', 'Difference'), children: <Money amount={r.balances.difference} /> },
              { key: 'entries', label: t('对账单笔数 / 已匹配', 'Entries / matched'), children: `${r.entries} / ${r.matched.count}` },
              { key: 'statement', label: t('对账单', 'Statement'), children: `${r.statement.statementId} #${r.statement.sequenceNumber ?? '—'} · ${r.statement.account}` },
              ...(r.interest
                ? [{ key: 'interest', label: t('利息收入 / 已付利息（R13）', 'Interest income / paid (R13)'), children: <span><Money amount={r.interest.income} /> / <Money amount={r.interest.paid} /></span> }]
                : []),
              { key: 'source', label: t('来源', 'Source'), children: `${r.source} · ${beijingTime(r.createdAt)}` },
              ...(r.supersededBy ? [{ key: 'sup', label: t('已被替代', 'Superseded by'), children: <IdLink id={r.supersededBy} to={hrefOf.reconciliation(r.supersededBy)} /> }] : []),
              { key: 'vouchers', label: t('凭证', 'Vouchers'), children: <VoucherLinks vouchers={vouchers.data} /> },
            ]}
          />
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('差异：银行与账面并列', 'Exceptions: the bank and the ledger side by side')}
          </Typography.Title>
          <DataTable<ExceptionRow> label={t('差异', 'Exceptions')}
            size="small"
            rowKey="id"
            pagination={false}
           
            dataSource={r.exceptions.data}
            locale={{ emptyText: <NoRows text={t('无差异', 'No exceptions')} /> }}
            columns={[
              { title: '#', dataIndex: 'id' },
              { title: t('类型', 'Kind'), dataIndex: 'kind', render: (k: string) => words.kind(k) },
              { title: t('银行流水', 'Entry'), dataIndex: 'entryRef', render: (e: string, x) => <span>{e || '—'} <Money amount={x.amount} /></span> },
              { title: t('银行', 'Bank'), dataIndex: 'bank', render: (b: BankSide | null, x) => (x.lineId ? <BankCell bank={b} /> : <JsonFacts value={x.statementFacts} />) },
              { title: t('账面', 'Ledger'), dataIndex: 'ledger', render: (l: LedgerSide | null, x) => (x.lineId ? <LedgerCell ledger={l} /> : '—') },
              { title: t('说明', 'Detail'), dataIndex: 'detail', render: (d: string) => <div style={{ maxWidth: 280 }}>{d}</div> },
              {
                title: t('处理', 'Resolution'),
                dataIndex: 'status',
                render: (s: string, x) =>
                  s === 'open' ? (
                    <Space orientation="vertical" size={4}>
                      <Tag color="orange">{t('未处理', 'open')}</Tag>
                      <ResolveButton onClick={() => setResolving(x.id)} />
                    </Space>
                  ) : (
                    <div style={{ maxWidth: 260 }} data-testid={`rcn-exception-${x.id}-resolved`}>
                      <Tag color="green">{t('已处理', 'resolved')}</Tag> {words.decision(x.decision)}
                      <div>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {x.note} · {x.resolvedBy} · {beijingTime(x.resolvedAt)}
                          {x.correctionJournalId ? ` · ${x.correctionJournalId}` : ''}
                        </Typography.Text>
                      </div>
                    </div>
                  ),
              },
            ]}
          />
          <Pager cursors={exceptionsCursors} setCursors={setExceptionsCursors} next={r.exceptions.hasMore ? r.exceptions.nextCursor : null} label={t('差异', 'exceptions')} />
          {resolving && r.exceptions.data.find((x) => x.id === resolving && x.status === 'open') ? (
            <ResolutionForm
              key={resolving}
              reconciliationId={id}
              exception={r.exceptions.data.find((x) => x.id === resolving)!}
              onDone={() => {
                setResolving(undefined);
                report.reload();
              }}
            />
          ) : null}
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('对账单明细', 'Statement lines')}
          </Typography.Title>
          <DataTable<LineRow> label={t('对账单明细', 'Statement lines')}
            size="small"
            rowKey="id"
            pagination={false}
           
            dataSource={r.lines.data}
            columns={[
              { title: '#', dataIndex: 'lineNo' },
              { title: t('银行流水', 'Entry'), dataIndex: 'entryRef' },
              { title: t('结果', 'Result'), dataIndex: 'result', render: (x: string) => (x === 'matched' ? <Tag color="green">{t('已匹配', 'matched')}</Tag> : <Tag color="orange">{words.kind(x)}</Tag>) },
              { title: t('银行', 'Bank'), dataIndex: 'bank', render: (b: BankSide | null) => <BankCell bank={b} /> },
              { title: t('账面', 'Ledger'), dataIndex: 'ledger', render: (l: LedgerSide | null) => <LedgerCell ledger={l} /> },
            ]}
          />
          <Pager cursors={linesCursors} setCursors={setLinesCursors} next={r.lines.hasMore ? r.lines.nextCursor : null} label={t('明细', 'lines')} />
        </>
      ) : null}
    </>
  );
}

function ResolveButton({ onClick }: { onClick: () => void }) {
  const { t } = useLang();
  const { readOnly } = useSession();
  if (readOnly) return null;
  return (
    <Button size="small" onClick={onClick}>
      {t('处理', 'Resolve')}
    </Button>
  );
}

function Pager({ cursors, setCursors, next, label }: { cursors: (string | undefined)[]; setCursors: (f: (c: (string | undefined)[]) => (string | undefined)[]) => void; next: string | null; label: string }) {
  const { t } = useLang();
  if (cursors.length <= 1 && !next) return null;
  return (
    <Space style={{ marginTop: 8 }}>
      <Button disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))} aria-label={`${t('上一页', 'Previous')} ${label}`}>
        {t('上一页', 'Previous')}
      </Button>
      <Button disabled={!next} onClick={() => next && setCursors((c) => [...c, next])} aria-label={`${t('下一页', 'Next')} ${label}`}>
        {t('下一页', 'Next')}
      </Button>
    </Space>
  );
}
