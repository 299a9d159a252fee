// Reconciliations: the list, and a statement uploaded (camt.053) or a day pulled from the bank;
// the shapes and words of a reconciliation's report (one report: ReconciliationDetail.tsx).
import { Button, Card, Col, DatePicker, Form, Row, Select, Space, Tag, Upload } from 'antd';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, upload } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad } from '../../components';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, hrefOf, IdLink, type ListPage } from './common';

/** A statement file larger than this is for the CLI (`bidbond reconcile`), not a browser upload. */
export const statementUploadBytesMax = 100 * 1024 * 1024;

export interface Balances {
  opening: string | null;
  closingBank: string | null;
  closingLedger: string | null;
  difference: string | null;
}

export interface Summary {
  id: string;
  bankId: string;
  statementDate: string;
  status: string;
  result: string;
  supersededBy: string | null;
  source: string;
  balances: Balances;
  entries: number;
  matched: { count: number; credits: string | null; debits: string | null; recovered: number };
  exceptionCount: number;
  interest?: { income: string | null; paid: string | null; shortfall: string | null };
  voucherId: string | null;
  createdBy: string;
  createdAt: string | null;
}

export interface BankSide {
  direction: string;
  amount: string | null;
  bookedAt: string | null;
  valueDate: string | null;
  endToEndId: string | null;
  account: string | null;
  reversal: boolean | null;
  counterparty: { name: string | null; accountNumber: string | null; bankCode: string | null };
  remittance: string | null;
}

export interface LedgerSide {
  journalId: string;
  kind: string;
  ref: string;
  memo: string;
  postedAt: string | null;
  trustMovement: string | null;
}

export interface ExceptionRow {
  id: string;
  kind: string;
  entryRef: string;
  amount: string | null;
  detail: string;
  status: string;
  decision: string | null;
  note: string | null;
  correctionJournalId: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  statementFacts: Record<string, unknown> | null;
  bank?: BankSide | null;
  ledger?: LedgerSide | null;
  /** Null for an exception of the whole statement (balances, sequence), which has no line. */
  lineId?: string | null;
}

export interface LineRow {
  id: string;
  lineNo: number;
  entryRef: string;
  result: string;
  matchedBy: string | null;
  detail: string | null;
  bankAmount: string | null;
  ledgerAmount: string | null;
  bank: BankSide | null;
  ledger: LedgerSide | null;
}

export interface Report extends Summary {
  statement: { messageId: string; statementId: string; sequenceNumber: string | null; account: string; credits: string | null; debits: string | null; entryCount: number; sha256: string; receivedAt: string | null };
  openExceptions: number;
  exceptions: ListPage<ExceptionRow>;
  lines: ListPage<LineRow>;
}

const exceptionKindWords: Record<string, readonly [string, string]> = {
  missing_in_ledger: ['银行有、账上无', 'In the bank, not in the ledger'],
  missing_in_bank: ['账上有、银行无', 'In the ledger, not in the bank'],
  amount_mismatch: ['金额不符', 'Amounts differ'],
  duplicate: ['重复', 'Duplicate'],
  sequence_gap: ['对账单序号缺失', 'Statement sequence gap'],
  sequence_repeat: ['对账单序号重复', 'Statement sequence repeated'],
  balance_mismatch: ['对账单期初期末与发生额不符', "The statement's balances do not add up"],
  ledger_balance_difference: ['银行余额与账面余额不符', 'Bank and ledger balances differ'],
};

const decisionWords: Record<string, readonly [string, string]> = {
  explained: ['已查明，无需调整', 'Explained; nothing to change'],
  bank_to_correct: ['由银行更正', 'The bank is to correct it'],
  corrected: ['记账更正（转入待查科目）', 'Corrected by a journal (against suspense)'],
  recovered_from_statement: ['已按对账单补记', 'Recovered from the statement'],
};

export function useWords() {
  const { t } = useLang();
  return {
    kind: (k: string) => (exceptionKindWords[k] ? t(exceptionKindWords[k][0], exceptionKindWords[k][1]) : k),
    decision: (d: string | null) => (d ? (decisionWords[d] ? t(decisionWords[d][0], decisionWords[d][1]) : d) : '—'),
  };
}

export function ResultTag({ status }: { status: string }) {
  const { t } = useLang();
  if (status === 'balanced') return <Tag color="green">{t('平衡', 'balanced')}</Tag>;
  if (status === 'differences') return <Tag color="red">{t('有差异', 'differences')}</Tag>;
  if (status === 'superseded') return <Tag>{t('已被替代', 'superseded')}</Tag>;
  return <StatusTag status={status} />;
}

function useBanks() {
  return useLoad(async () => unwrap(await api.GET('/v1/banks', { params: { query: { limit: 100 } } })).data, []);
}

function NewReconciliation({ onCreated }: { onCreated: (id: string) => void }) {
  const { t } = useLang();
  const banks = useBanks();
  const [file, setFile] = useState<File>();
  const [bankId, setBankId] = useState<string>();
  const [date, setDate] = useState<string>();
  const [busy, setBusy] = useState<'upload' | 'pull'>();
  const [error, setError] = useState<unknown>();
  const bankOptions = (banks.data ?? []).map((b) => ({ value: b.id, label: `${b.name} (${b.trustAccount.number})` }));
  const run = async (kind: 'upload' | 'pull') => {
    if (!bankId) return;
    setBusy(kind);
    setError(undefined);
    try {
      const answer =
        kind === 'upload'
          ? await upload(`/v1/reconciliations?bankId=${encodeURIComponent(bankId)}`, file!, 'application/xml')
          : await upload('/v1/reconciliations', new Blob([JSON.stringify({ bankId, date })], { type: 'application/json' }), 'application/json');
      onCreated((answer as { id: string }).id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Card size="small" title={t('新建对账', 'Reconcile')} style={{ marginBottom: 16 }}>
      <ErrorAlert error={banks.error} />
      <Form layout="vertical">
        <Form.Item label={t('存款银行', 'Deposit bank')} htmlFor="rcn-bank" required>
          <Select id="rcn-bank" options={bankOptions} value={bankId} onChange={setBankId} loading={banks.loading} style={{ maxWidth: 420 }} />
        </Form.Item>
        <Row gutter={[16, 8]}>
          <Col xs={24} md={12}>
            <Form.Item label={t('上传银行对账单（camt.053 XML）', 'Upload a bank statement (camt.053 XML)')} htmlFor="rcn-file">
              <Space wrap>
                <Upload
                  accept=".xml,application/xml,text/xml"
                  maxCount={1}
                  beforeUpload={(f) => {
                    setFile(f);
                    return false;
                  }}
                  onRemove={() => setFile(undefined)}
                  showUploadList={{ showRemoveIcon: true }}
                >
                  <Button id="rcn-file">{t('选择文件', 'Choose file')}</Button>
                </Upload>
                <Button type="primary" disabled={!bankId || !file || (file?.size ?? 0) > statementUploadBytesMax} loading={busy === 'upload'} onClick={() => run('upload')}>
                  {t('上传并对账', 'Upload and reconcile')}
                </Button>
              </Space>
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item label={t('或按日期向银行获取对账单', 'Or fetch a day from the bank')} htmlFor="rcn-date">
              <Space wrap>
                <DatePicker id="rcn-date" onChange={(_, s) => setDate(typeof s === 'string' && s ? s : undefined)} />
                <Button disabled={!bankId || !date} loading={busy === 'pull'} onClick={() => run('pull')}>
                  {t('获取并对账', 'Fetch and reconcile')}
                </Button>
              </Space>
            </Form.Item>
          </Col>
        </Row>
      </Form>
      <ErrorAlert error={error} />
    </Card>
  );
}

export function ReconciliationList() {
  const { t } = useLang();
  const { readOnly } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const banks = useBanks();
  const bankId = params.get('bankId') ?? undefined;
  return (
    <>
      <PageTitle>{t('对账', 'Reconciliations')}</PageTitle>
      {readOnly ? null : <NewReconciliation onCreated={(id) => navigate(hrefOf.reconciliation(id))} />}
      <Form layout="inline" style={{ marginBottom: 12 }}>
        <Form.Item label={t('存款银行', 'Deposit bank')} htmlFor="rcn-filter-bank">
          <Select
            id="rcn-filter-bank"
            allowClear
            style={{ width: 260 }}
            placeholder={t('全部', 'All')}
            value={bankId}
            onChange={(v) => setParams(v ? { bankId: v } : {}, { replace: true })}
            options={(banks.data ?? []).map((b) => ({ value: b.id, label: b.name }))}
          />
        </Form.Item>
      </Form>
      <CursorTable<Summary>
        key={bankId ?? 'all'}
        label={t('对账列表（按时间先后）', 'Reconciliations, oldest first')}
        rowKey="id"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/reconciliations', { params: { query: { bankId, cursor, limit } } })) as unknown as ListPage<Summary>}
        columns={[
          { title: t('对账单日期', 'Statement date'), dataIndex: 'statementDate', render: (d: string, r) => <Link to={hrefOf.reconciliation(r.id)}>{d}</Link> },
          { title: t('结果', 'Result'), dataIndex: 'status', render: (s: string) => <ResultTag status={s} /> },
          { title: t('差异数', 'Exceptions'), dataIndex: 'exceptionCount' },
          { title: t('银行期末余额', 'Bank closing'), dataIndex: ['balances', 'closingBank'], align: 'right', render: (a: string) => <Money amount={a} /> },
          { title: t('账面期末余额', 'Ledger closing'), dataIndex: ['balances', 'closingLedger'], align: 'right', render: (a: string) => <Money amount={a} /> },
          { title: t('来源', 'Source'), dataIndex: 'source' },
          { title: t('编号', 'Id'), dataIndex: 'id', render: (id: string) => <IdLink id={id} to={hrefOf.reconciliation(id)} /> },
        ]}
      />
    </>
  );
}
