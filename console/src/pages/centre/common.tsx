// Pieces every page of the centre uses: lists paged by the API's cursor, the confirmation that
// goes before every decision, ids that link to their page, and the typed shapes of answers.
import { Alert, Button, Descriptions, Form, Modal, Space, Table, Typography, type DescriptionsProps, type TableColumnsType, type TableProps } from 'antd';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { ErrorAlert, useLoad, type VoucherRef } from '../../components';
import { useLang } from '../../i18n';
import { useSession } from '../../session';

export type Json<P extends keyof paths, M extends 'get' | 'post'> = paths[P] extends { [K in M]: { responses: { 200: { content: { 'application/json': infer T } } } } }
  ? T
  : paths[P] extends { [K in M]: { responses: { 201: { content: { 'application/json': infer T } } } } }
    ? T
    : never;

export type Refund = Json<'/v1/refunds/{id}', 'get'>;
export type Deposit = Json<'/v1/deposits/{id}', 'get'>;
export type DepositSummary = Json<'/v1/deposits', 'get'>['data'][number];
export type Section = Json<'/v1/sections/{id}', 'get'>;
export type Roster = Json<'/v1/sections/{id}/roster', 'get'>;
export type Guarantee = Json<'/v1/guarantees/{id}', 'get'>;
export type BankException = Json<'/v1/bank-exceptions/{id}', 'get'>;
export type Bank = Json<'/v1/banks/{id}', 'get'>;
export type Issuer = Json<'/v1/issuers/{id}', 'get'>;
export type Calendar = Json<'/v1/calendar', 'get'>;

export interface ListPage<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** Rows per page of every list: the API's default page. */
export const listPageLimit = 20;

/** A count shown from one page of at most `limit` rows: "100+" when the API says there are more. */
export function countLabel(page: { data: unknown[]; hasMore: boolean } | undefined): string {
  if (!page) return '…';
  return page.hasMore ? `${page.data.length}+` : String(page.data.length);
}

/** A table that scrolls sideways on a narrow screen inside a region the keyboard can reach
 *  (a scroller nobody can focus is a region a keyboard user cannot read). */
export function DataTable<T extends object>({ label, ...props }: TableProps<T> & { label: string }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} style={{ overflowX: 'auto', maxWidth: '100%' }}>
      {/* As wide as its content needs (long texts wrap in their own bounded cells), never squeezed
          to a letter per line on a phone: the region scrolls instead. */}
      <Table<T> size="small" pagination={false} style={{ minWidth: 'max-content' }} {...props} />
    </div>
  );
}

/** A list paged by the API's cursor: forward with the cursor the API gave, back along the
 *  cursors already seen. Give it a `key` made of its filters so that a new filter starts again
 *  at the first page. */
export function CursorTable<T extends object>({
  load,
  columns,
  rowKey,
  label,
  expandable,
  limit = listPageLimit,
}: {
  load: (cursor: string | undefined, limit: number) => Promise<ListPage<T>>;
  columns: TableColumnsType<T>;
  rowKey: keyof T & string;
  label: string;
  expandable?: { expandedRowRender: (row: T) => ReactNode };
  limit?: number;
}) {
  const { t } = useLang();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => load(cursor, limit), [cursor, limit]);
  return (
    <div>
      <ErrorAlert error={page.error} />
      <DataTable<T> label={label} rowKey={rowKey} columns={columns} dataSource={page.data?.data ?? []} loading={page.loading} expandable={expandable} />
      <Space style={{ marginTop: 8 }} wrap>
        <Button disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t('上一页', 'Previous')}
        </Button>
        <Typography.Text aria-live="polite">{t(`第 ${cursors.length} 页`, `Page ${cursors.length}`)}</Typography.Text>
        <Button disabled={!page.data?.hasMore || !page.data.nextCursor} onClick={() => page.data?.nextCursor && setCursors((c) => [...c, page.data!.nextCursor!])}>
          {t('下一页', 'Next')}
        </Button>
        <Button onClick={page.reload}>{t('刷新', 'Refresh')}</Button>
      </Space>
    </div>
  );
}

/** An id shown short, linking to its page in the console; a guarantee's id links to its page
 *  even where the caller names no page (a roster entry, an answer). */
export function IdLink({ id, to }: { id: string | null | undefined; to?: string }) {
  if (!id) return <Typography.Text type="secondary">—</Typography.Text>;
  const text = <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{id}</span>;
  const href = to ?? (id.startsWith('gty_') ? hrefOf.guarantee(id) : undefined);
  return href ? <Link to={href}>{text}</Link> : text;
}

export const hrefOf = {
  refund: (id: string) => `/console/refunds/${id}`,
  deposit: (id: string) => `/console/deposits/${id}`,
  section: (id: string) => `/console/sections/${id}`,
  reconciliation: (id: string) => `/console/reconciliations/${id}`,
  bankException: (id: string) => `/console/bank-exceptions/${id}`,
  guarantee: (id: string) => `/console/guarantees/${id}`,
  registry: (id: string) => `/console/registry?id=${id}`,
};

/** The vouchers of one record (deposit, refund, guarantee, roster, reconciliation). */
export async function loadVouchers(subjectId: string): Promise<VoucherRef[]> {
  const page = unwrap(await api.GET('/v1/vouchers', { params: { query: { subjectId, limit: 100 } } }));
  return page.data;
}

/** A record's fields; one column on a phone, up to three on a desk. */
export function Facts({ items, label }: { items: DescriptionsProps['items']; label?: string }) {
  return <Descriptions size="small" bordered column={{ xs: 1, sm: 1, md: 1, lg: 2, xl: 2, xxl: 3 }} items={items} title={label} styles={{ label: { minWidth: 96 } }} />;
}

/** The text of a `datetime-local` input, read as Beijing time (every deadline is stated in it),
 *  as the ISO time the API takes. */
export function beijingInputToIso(value: string): string {
  return `${value.length === 16 ? `${value}:00` : value}+08:00`;
}

/** Today's date in Beijing, YYYY-MM-DD. */
export function beijingToday(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function beijingDate(iso: string): string {
  return beijingToday(new Date(iso));
}

/**
 * A decision: its fields in a form; submitting asks for confirmation in a dialog that says what
 * will happen, and only then calls the API; the API's answer or error is shown under the form.
 * The auditor never sees it (the API would refuse anyway).
 */
export function DecisionForm<V extends object>({
  name,
  title,
  confirmTitle,
  confirmText,
  submitText,
  danger,
  onSubmit,
  onDone,
  children,
  initialValues,
}: {
  name: string;
  title: string;
  confirmTitle: string;
  confirmText: (values: V) => ReactNode;
  submitText: string;
  danger?: boolean;
  onSubmit: (values: V) => Promise<unknown>;
  onDone?: (answer: unknown) => void;
  children?: ReactNode;
  initialValues?: Partial<V>;
}) {
  const { t } = useLang();
  const { readOnly } = useSession();
  const [form] = Form.useForm<V>();
  const [pending, setPending] = useState<V>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  if (readOnly) return null;
  return (
    <section aria-label={title} style={{ marginTop: 16, paddingTop: 12, borderTop: '1px solid #f0f0f0' }}>
      <Typography.Title level={2} style={{ fontSize: 17 }}>
        {title}
      </Typography.Title>
      <Form<V>
        form={form}
        name={name}
        layout="vertical"
        initialValues={initialValues}
        onFinish={(values) => {
          setError(undefined);
          setDone(false);
          setPending(values);
        }}
        style={{ maxWidth: 640 }}
      >
        {children}
        <Button type="primary" danger={danger} htmlType="submit" data-testid={`${name}-submit`}>
          {submitText}
        </Button>
      </Form>
      <Modal
        open={pending !== undefined}
        title={confirmTitle}
        okText={t('确认提交', 'Confirm')}
        cancelText={t('取消', 'Cancel')}
        okButtonProps={{ danger, loading: busy, id: `${name}-confirm` }}
        onCancel={() => setPending(undefined)}
        onOk={async () => {
          if (!pending) return;
          setBusy(true);
          try {
            const answer = await onSubmit(pending);
            setDone(true);
            form.resetFields();
            onDone?.(answer);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
            setPending(undefined);
          }
        }}
      >
        {pending ? confirmText(pending) : null}
      </Modal>
      <div style={{ marginTop: 12 }}>
        <ErrorAlert error={error} />
        {done ? <Alert type="success" showIcon role="status" title={t('已提交，结果如下。', 'Done; the record below shows the result.')} /> : null}
      </div>
    </section>
  );
}

/** A plain JSON value (a bank exception's facts, an audit event's data) as readable lines. */
export function JsonFacts({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <Typography.Text type="secondary">—</Typography.Text>;
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== 'object')) {
    return (
      <div style={{ fontSize: 12, maxWidth: 560 }}>
        {Object.entries(value).map(([k, v]) => (
          <div key={k} style={{ wordBreak: 'break-all' }}>
            <span style={{ color: 'rgba(0, 0, 0, 0.65)' }}>{k}</span>: {v === null ? '—' : String(v)}
          </div>
        ))}
      </div>
    );
  }
  return (
    <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, fontSize: 12, maxWidth: 560 }}>{JSON.stringify(value, null, 2)}</pre>
  );
}

