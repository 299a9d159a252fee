// Bank exceptions: what the deposit banks told us that a person must look at (reversals, returns,
// clashing references), and the record of how each was dealt with.
import { Form, Input, Select, Tag, Typography } from 'antd';
import { useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, useLoad } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { CursorTable, DecisionForm, Facts, hrefOf, IdLink, JsonFacts, type BankException } from './common';

const kinds = ['reversal_unmatched', 'reversal_after_opening', 'return_unmatched', 'foreign_currency', 'reference_clash', 'not_our_account'] as const;
type Kind = (typeof kinds)[number];

const kindWords: Record<Kind, readonly [string, string]> = {
  reversal_unmatched: ['冲正找不到原款项', 'Reversal matching no credit'],
  reversal_after_opening: ['开标后冲正', 'Reversal after the opening'],
  return_unmatched: ['退汇找不到原退款', 'Return matching no refund'],
  foreign_currency: ['外币款项', 'Foreign currency'],
  reference_clash: ['流水号冲突', 'Reference clash'],
  not_our_account: ['非本中心账户', 'Not our account'],
};

/** An amount in the currency the bank named: a foreign-currency credit is not yuan. */
function Amount({ amount, currency }: { amount: string | null; currency: string | null }) {
  if (!currency || currency === 'CNY') return <Money amount={amount} />;
  return <span style={{ whiteSpace: 'nowrap' }}>{`${amount ?? '—'} ${currency}`}</span>;
}

function OpenTag({ status }: { status: string }) {
  const { t } = useLang();
  return status === 'open' ? <Tag color="orange">{t('未处理', 'open')}</Tag> : <Tag color="green">{t('已处理', 'resolved')}</Tag>;
}

export function useKindWord() {
  const { t } = useLang();
  return (k: string) => (k in kindWords ? t(kindWords[k as Kind][0], kindWords[k as Kind][1]) : k);
}

export function BankExceptionList() {
  const { t } = useLang();
  const kindWord = useKindWord();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') === 'resolved' ? 'resolved' : params.get('status') === 'open' ? 'open' : undefined;
  const kind = (kinds as readonly string[]).includes(params.get('kind') ?? '') ? (params.get('kind') as Kind) : undefined;
  const set = (key: string, value: string | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <>
      <PageTitle>{t('银行异常', 'Bank exceptions')}</PageTitle>
      <Form layout="inline" style={{ marginBottom: 12, rowGap: 8 }}>
        <Form.Item label={t('状态', 'Status')} htmlFor="bex-status">
          <Select
            id="bex-status"
            allowClear
            style={{ width: 140 }}
            placeholder={t('全部', 'All')}
            value={status}
            onChange={(v) => set('status', v)}
            options={[
              { value: 'open', label: t('未处理', 'Open') },
              { value: 'resolved', label: t('已处理', 'Resolved') },
            ]}
          />
        </Form.Item>
        <Form.Item label={t('类型', 'Kind')} htmlFor="bex-kind">
          <Select id="bex-kind" allowClear style={{ width: 220 }} placeholder={t('全部', 'All')} value={kind} onChange={(v) => set('kind', v)} options={kinds.map((k) => ({ value: k, label: kindWord(k) }))} />
        </Form.Item>
      </Form>
      <CursorTable<BankException>
        key={`${status}-${kind}`}
        label={t('银行异常列表', 'Bank exception list')}
        rowKey="id"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/bank-exceptions', { params: { query: { status, kind, cursor, limit } } }))}
        columns={[
          { title: t('编号', 'Id'), dataIndex: 'id', render: (id: string) => <IdLink id={id} to={hrefOf.bankException(id)} /> },
          { title: t('类型', 'Kind'), dataIndex: 'kind', render: (k: string) => kindWord(k) },
          { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <OpenTag status={s} /> },
          { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string | null, x) => <Amount amount={a} currency={x.currency} /> },
          { title: t('银行流水', 'Entry'), dataIndex: 'entryRef' },
          { title: t('说明', 'Detail'), dataIndex: 'detail', render: (d: string) => <div style={{ maxWidth: 360 }}>{d}</div> },
          { title: t('时间', 'When'), dataIndex: 'createdAt', render: (s: string) => beijingTime(s) },
        ]}
      />
    </>
  );
}

export function BankExceptionDetail() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const kindWord = useKindWord();
  const x = useLoad(async () => unwrap(await api.GET('/v1/bank-exceptions/{id}', { params: { path: { id } } })), [id]);
  const e = x.data;
  return (
    <>
      <PageTitle>
        {t('银行异常', 'Bank exception')} <span style={{ fontFamily: 'monospace', fontSize: 16 }}>{id}</span>
      </PageTitle>
      <ErrorAlert error={x.error} />
      {e ? (
        <>
          <Facts
            items={[
              { key: 'kind', label: t('类型', 'Kind'), children: kindWord(e.kind) },
              { key: 'status', label: t('状态', 'Status'), children: <OpenTag status={e.status} /> },
              { key: 'amount', label: t('金额', 'Amount'), children: <Amount amount={e.amount} currency={e.currency} /> },
              { key: 'entry', label: t('银行流水', 'Entry'), children: e.entryRef },
              { key: 'message', label: t('报文', 'Message'), children: e.messageId ?? '—' },
              { key: 'bank', label: t('存款银行', 'Bank'), children: <IdLink id={e.bankId} to={hrefOf.registry(e.bankId)} /> },
              { key: 'section', label: t('标段', 'Section'), children: <IdLink id={e.sectionId} to={e.sectionId ? hrefOf.section(e.sectionId) : undefined} /> },
              { key: 'deposit', label: t('保证金', 'Deposit'), children: <IdLink id={e.depositId} to={e.depositId ? hrefOf.deposit(e.depositId) : undefined} /> },
              { key: 'refund', label: t('退款', 'Refund'), children: <IdLink id={e.refundId} to={e.refundId ? hrefOf.refund(e.refundId) : undefined} /> },
              { key: 'detail', label: t('说明', 'Detail'), children: e.detail },
              { key: 'data', label: t('银行所述', 'What the bank said'), children: <JsonFacts value={e.data} /> },
              { key: 'created', label: t('时间', 'When'), children: beijingTime(e.createdAt) },
              ...(e.resolution
                ? [{ key: 'resolution', label: t('处理记录', 'Resolution'), children: <span data-testid="bex-resolution">{`${e.resolution.note} · ${e.resolution.resolvedBy ?? '—'} · ${beijingTime(e.resolution.resolvedAt)}`}</span> }]
                : []),
            ]}
          />
          {e.status === 'open' ? (
            <DecisionForm<{ note: string }>
              name="bank-exception-resolution"
              title={t('记录处理结果', 'Record how it was dealt with')}
              submitText={t('提交', 'Record')}
              confirmTitle={t('确认处理结果', 'Confirm the resolution')}
              confirmText={(v) => <Typography.Paragraph>{v.note}</Typography.Paragraph>}
              onSubmit={async (v) => unwrap(await api.POST('/v1/bank-exceptions/{id}/resolution', { params: { path: { id } }, body: { note: v.note } }))}
              onDone={x.reload}
            >
              <Form.Item name="note" label={t('处理说明', 'What was done')} rules={[{ required: true, whitespace: true, max: 1000 }]}>
                <Input.TextArea rows={3} maxLength={1000} />
              </Form.Item>
            </DecisionForm>
          ) : null}
        </>
      ) : null}
    </>
  );
}
