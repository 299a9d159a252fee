// Pieces the bidder's and the tenderee's pages share: lists paged by the API's cursor, a live
// countdown, vouchers of a record, a section's facts, names of sections and issuers, and the words
// for refund reasons.
import { Button, Card, Descriptions, Grid, Space, Table, Typography, type TableProps } from 'antd';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { ErrorAlert, Money, StatusTag, useLoad, VoucherLinks, type VoucherRef } from '../../components';
import { beijingTime, countdown } from '../../format';
import { useLang } from '../../i18n';

/** Text colours of a deadline still ahead and one passed, readable on white. */
export const deadlineColours = { ahead: '#8a4b00', passed: '#a11d1d' };

/** Records read label above value on a phone, where two columns of a table would squeeze both. */
export function useRecordLayout(): 'horizontal' | 'vertical' {
  const screens = Grid.useBreakpoint();
  return screens.md === false ? 'vertical' : 'horizontal';
}

/** Rows per page asked of the API (its own maximum is 100). */
export const pageSize = 20;
/** How often a countdown on screen is recomputed; it shows minutes, so this is fine enough. */
export const countdownTickMs = 15_000;

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** A list the API pages with a cursor: the cursors of the pages seen so far make "previous" work. */
export function useCursorList<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, deps: readonly unknown[]) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const depsKey = JSON.stringify(deps);
  useEffect(() => setCursors([undefined]), [depsKey]);
  const cursor = cursors[cursors.length - 1];
  const loaded = useLoad(() => fetchPage(cursor), [cursor, depsKey]);
  return {
    ...loaded,
    pageNumber: cursors.length,
    next: () => loaded.data?.nextCursor && setCursors((c) => [...c, loaded.data!.nextCursor!]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

/** A table of one page of a cursor list, with previous and next below it. */
export function CursorTable<T extends object>({
  list,
  columns,
  rowKey,
  caption,
}: {
  list: ReturnType<typeof useCursorList<T>>;
  columns: TableProps<T>['columns'];
  rowKey: keyof T & string;
  caption: string;
}) {
  const { t } = useLang();
  return (
    <>
      <ErrorAlert error={list.error} />
      <Table<T>
        aria-label={caption}
        size="middle"
        rowKey={rowKey}
        loading={list.loading}
        columns={columns}
        dataSource={list.data?.data ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: <Typography.Text type="secondary">{t('暂无记录', 'Nothing yet')}</Typography.Text> }}
      />
      <Space style={{ marginTop: 12 }}>
        <Button onClick={list.previous} disabled={list.pageNumber <= 1}>
          {t('上一页', 'Previous')}
        </Button>
        <Typography.Text type="secondary">{t(`第 ${list.pageNumber} 页`, `Page ${list.pageNumber}`)}</Typography.Text>
        <Button onClick={list.next} disabled={!list.data?.hasMore}>
          {t('下一页', 'Next')}
        </Button>
      </Space>
    </>
  );
}

/** The time left until a deadline, recomputed while the page is open. */
export function Countdown({ until }: { until: string }) {
  const { lang } = useLang();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), countdownTickMs);
    return () => clearInterval(timer);
  }, []);
  const passed = new Date(until).getTime() <= now;
  return (
    <Typography.Text strong style={{ color: passed ? deadlineColours.passed : deadlineColours.ahead }} data-testid="countdown">
      {countdown(until, now, lang)}
    </Typography.Text>
  );
}

/** A deadline in Beijing time beside the time left until it. */
export function Deadline({ at }: { at: string }) {
  return (
    <Space wrap size="small">
      <span>{beijingTime(at)}</span>
      <Countdown until={at} />
    </Space>
  );
}

/** The vouchers a record lists; a record that does not list them has them looked up by its id. */
export function RecordVouchers({ record }: { record: { id: string } }) {
  const listed = (record as { vouchers?: VoucherRef[] }).vouchers;
  if (listed) return <VoucherLinks vouchers={listed} />;
  return <LookedUpVouchers subjectId={record.id} />;
}

function LookedUpVouchers({ subjectId }: { subjectId: string }) {
  const { data, error } = useLoad(async () => unwrap(await api.GET('/v1/vouchers', { params: { query: { subjectId, limit: 100 } } })).data, [subjectId]);
  if (error) return <ErrorAlert error={error} />;
  return <VoucherLinks vouchers={data} />;
}

async function fetchSection(id: string) {
  return unwrap(await api.GET('/v1/sections/{id}', { params: { path: { id } } }));
}
export type Section = Awaited<ReturnType<typeof fetchSection>>;

const sectionCache = new Map<string, Promise<Section>>();
const issuerCache = new Map<string, Promise<{ id: string; name: string }>>();

function cached<T>(cache: Map<string, Promise<T>>, id: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(id);
  if (!p) {
    p = load();
    // A failure is not remembered: the next page asks again.
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}

export function sectionById(id: string) {
  return cached(sectionCache, id, () => fetchSection(id));
}

function issuerById(id: string) {
  return cached(issuerCache, id, async () => unwrap(await api.GET('/v1/issuers/{id}', { params: { path: { id } } })));
}

/** A section by its codes and name, linking to its page under `base`. */
export function SectionName({ id, base }: { id: string | null | undefined; base: string }) {
  const { data } = useLoad(async () => (id ? sectionById(id) : undefined), [id]);
  if (!id) return <Typography.Text type="secondary">—</Typography.Text>;
  if (!data) return <Link to={`/console/${base}/${id}`}>{id}</Link>;
  return (
    <Space direction="vertical" size={0}>
      <Link to={`/console/${base}/${id}`}>{data.name}</Link>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {data.projectCode}/{data.sectionCode}
      </Typography.Text>
    </Space>
  );
}

export function IssuerName({ id }: { id: string }) {
  const { data } = useLoad(() => issuerById(id), [id]);
  return <span>{data?.name ?? id}</span>;
}

/** Why a refund was made, with the rule that sets its due date. */
export const refundReasonWords: Record<string, readonly [string, string]> = {
  invalid: ['不符合规则的款项原路退回（R15）', 'Returned: failed a rule (R15)'],
  excess: ['多缴部分退回（R4）', 'Excess returned (R4)'],
  withdrawal: ['截止前撤回投标（R9）', 'Withdrawn before the deadline (R9)'],
  contract: ['签订合同后退还（R11）', 'Refunded after the contract (R11)'],
  award_non_winner: ['未中标，中标通知后退还（R11）', 'Not awarded: refunded after the award notice (R11)'],
  termination: ['招标终止，立即退还（R16）', 'Tender terminated: refunded at once (R16)'],
  suspense_return: ['无法匹配的款项退回（R15）', 'Unmatched credit returned (R15)'],
};

export function RefundReason({ reason }: { reason: string }) {
  const { t } = useLang();
  const w = refundReasonWords[reason];
  return <span>{w ? t(w[0], w[1]) : reason}</span>;
}

export const securityKindWords: Record<string, readonly [string, string]> = {
  cash: ['现金保证金', 'cash deposit'],
  bank: ['银行保函', 'bank guarantee'],
  insurance: ['保证保险', 'insurance bond'],
  guarantor: ['担保公司保函', 'guarantor guarantee'],
  guarantee: ['电子保函', 'e-guarantee'],
};

export function SecurityKinds({ kinds }: { kinds: readonly string[] }) {
  const { t } = useLang();
  return <span>{kinds.map((k) => (securityKindWords[k] ? t(securityKindWords[k][0], securityKindWords[k][1]) : k)).join(t('、', ', '))}</span>;
}

export const regimeWords: Record<string, readonly [string, string]> = {
  tendering_law: ['招标投标法', 'Tendering law'],
  government_procurement: ['政府采购法', 'Government procurement'],
};

type SectionRecord = paths['/v1/sections/{id}']['get']['responses'][200]['content']['application/json'];

/** A section's facts as a bidder or a tenderee reads them; the bidder also sees the credit reductions it may be given. */
export function SectionFacts({ section: s, showReductions = false }: { section: SectionRecord; showReductions?: boolean }) {
  const { t } = useLang();
  const layout = useRecordLayout();
  return (
    <Card title={t('标段信息', 'The section')}>
      <Descriptions layout={layout} column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
        <Descriptions.Item label={t('项目/标段编号', 'Project/section code')}>
          {s.projectCode}/{s.sectionCode}
        </Descriptions.Item>
        <Descriptions.Item label={t('状态', 'Status')}>
          <StatusTag status={s.status} />
        </Descriptions.Item>
        <Descriptions.Item label={t('投标截止时间', 'Bid deadline')}>
          <Deadline at={s.bidDeadline} />
        </Descriptions.Item>
        <Descriptions.Item label={t('投标有效期', 'Bid validity')}>{t(`${s.bidValidityDays} 天`, `${s.bidValidityDays} days`)}</Descriptions.Item>
        <Descriptions.Item label={t('投标保证金', 'Deposit required')}>
          <Money amount={s.depositAmount} />
        </Descriptions.Item>
        <Descriptions.Item label={t('接受的担保方式', 'Security accepted')}>
          <SecurityKinds kinds={s.acceptedSecurity} />
        </Descriptions.Item>
        <Descriptions.Item label={t('适用法规', 'Regime')}>{regimeWords[s.regime] ? t(regimeWords[s.regime][0], regimeWords[s.regime][1]) : s.regime}</Descriptions.Item>
        {showReductions && (
          <Descriptions.Item label={t('信用减免', 'Credit reductions')}>
            {s.creditReductions.length
              ? s.creditReductions.map((r) => t(`${r.grade} 级减免 ${r.percent}%`, `grade ${r.grade}: ${r.percent}% off`)).join(t('；', '; '))
              : t('无', 'none')}
          </Descriptions.Item>
        )}
      </Descriptions>
    </Card>
  );
}
