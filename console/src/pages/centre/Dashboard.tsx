// 工作台: what needs the centre today, each count from the API and each item a link to its page.
import { Card, Col, List, Row, Statistic, Tag, Typography } from 'antd';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad } from '../../components';
import { beijingTime, countdown } from '../../format';
import { useLang } from '../../i18n';
import { useKindWord } from './BankExceptions';
import { beijingDate, beijingToday, countLabel, hrefOf, type ListPage, type Section } from './common';

/** How many rows each count asks for: a fuller count says "100+". */
export const dashboardCountLimit = 100;
/** Open sections read to find today's deadlines (pages of dashboardCountLimit): a centre with
 *  more open sections than this sees the sections page, filtered, instead. */
export const dashboardSectionPagesMax = 5;
/** Items listed under each count. */
export const dashboardItemsShown = 5;
/** The service calls itself degraded below this many days of calendar ahead (src/tables.ts). */
export const calendarDaysAheadWarn = 45;
/** Pages of reconciliations read (oldest first, so the newest are on the last) to find those with differences. */
export const dashboardReconciliationPagesMax = 5;

interface ReconciliationSummary {
  id: string;
  bankId: string;
  statementDate: string;
  status: string;
  result: string;
  exceptionCount: number;
  createdAt: string | null;
}

async function sectionsClosingToday(today: string): Promise<{ sections: Section[]; complete: boolean }> {
  const sections: Section[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < dashboardSectionPagesMax; i++) {
    const page = unwrap(await api.GET('/v1/sections', { params: { query: { status: 'open', limit: dashboardCountLimit, cursor } } }));
    sections.push(...page.data.filter((s) => beijingDate(s.bidDeadline) === today));
    if (!page.hasMore || !page.nextCursor) return { sections, complete: true };
    cursor = page.nextCursor;
  }
  return { sections, complete: false };
}

/** Reports read for their count of open exceptions: the newest reconciliations with differences. */
export const dashboardReconciliationsChecked = 20;

/** Reconciliations a person still has to finish: the newest with differences, not superseded, that
 *  still have an open exception (each report says how many). */
async function reconciliationsWithOpenExceptions(): Promise<{ items: (ReconciliationSummary & { openExceptions: number })[]; complete: boolean }> {
  const candidates: ReconciliationSummary[] = [];
  let cursor: string | undefined;
  let complete = false;
  for (let i = 0; i < dashboardReconciliationPagesMax; i++) {
    const page = unwrap(await api.GET('/v1/reconciliations', { params: { query: { limit: dashboardCountLimit, cursor } } })) as unknown as ListPage<ReconciliationSummary>;
    candidates.push(...page.data.filter((r) => r.status === 'differences'));
    if (!page.hasMore || !page.nextCursor) {
      complete = true;
      break;
    }
    cursor = page.nextCursor;
  }
  const newest = candidates.reverse().slice(0, dashboardReconciliationsChecked);
  const reports = await Promise.all(
    newest.map(async (r) => {
      const report = unwrap(await api.GET('/v1/reconciliations/{id}', { params: { path: { id: r.id }, query: { linesLimit: 1 } } })) as unknown as { openExceptions: number };
      return { ...r, openExceptions: report.openExceptions };
    }),
  );
  return { items: reports.filter((r) => r.openExceptions > 0), complete: complete && candidates.length <= dashboardReconciliationsChecked };
}

function CountCard<T>({
  title,
  testId,
  load,
  to,
  render,
  deps = [],
}: {
  title: string;
  testId: string;
  load: () => Promise<ListPage<T> | { data: T[]; hasMore: boolean }>;
  to: string;
  render: (item: T) => React.ReactNode;
  deps?: unknown[];
}) {
  const { t } = useLang();
  const page = useLoad(load, deps);
  return (
    <Card
      title={
        <Link to={to} style={{ color: 'inherit' }}>
          {title}
        </Link>
      }
      size="small"
      data-testid={testId}
      data-loaded={page.loading ? 'false' : 'true'}
      extra={<Link to={to}>{t('查看全部', 'See all')}</Link>}
    >
      <ErrorAlert error={page.error} />
      <Statistic value={countLabel(page.data)} loading={page.loading} styles={{ content: { fontSize: 28 } }} />
      {page.data?.data.length ? <List size="small" dataSource={page.data.data.slice(0, dashboardItemsShown)} renderItem={(item) => <List.Item>{render(item)}</List.Item>} /> : null}
    </Card>
  );
}

export function Dashboard() {
  const { t, lang } = useLang();
  const kindWord = useKindWord();
  const calendar = useLoad(async () => unwrap(await api.GET('/v1/calendar')), []);
  const today = calendar.data?.today ?? beijingToday();
  const now = Date.now();
  const refundLine = (r: { id: string; principal: string; dueBy: string; status: string; overdue: boolean }) => (
    <Link to={hrefOf.refund(r.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
      <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{r.id}</span>
      <Money amount={r.principal} />
      <StatusTag status={r.status} />
      <Typography.Text type={r.overdue ? 'danger' : 'secondary'}>
        {t('应退日', 'due')} {r.dueBy}
      </Typography.Text>
    </Link>
  );
  return (
    <>
      <PageTitle>{t('工作台', 'Dashboard')}</PageTitle>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <CountCard
            title={t(`今日（${today}）投标截止的标段`, `Sections whose bids close today (${today})`)}
            testId="dash-deadlines"
            to="/console/sections?status=open"
            deps={[today]}
            load={async () => {
              const r = await sectionsClosingToday(today);
              return { data: r.sections, hasMore: !r.complete };
            }}
            render={(s) => (
              <Link to={hrefOf.section(s.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <span>
                  {s.projectCode} / {s.sectionCode} {s.name}
                </span>
                <Typography.Text type="secondary">
                  {beijingTime(s.bidDeadline)} · {countdown(s.bidDeadline, now, lang)}
                </Typography.Text>
              </Link>
            )}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('逾期未退的退款', 'Overdue refunds')}
            testId="dash-overdue"
            to="/console/refunds?overdue=true"
            load={async () => unwrap(await api.GET('/v1/refunds', { params: { query: { overdue: 'true', limit: dashboardCountLimit } } }))}
            render={refundLine}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('待人工处理的退款', 'Refunds in manual handling')}
            testId="dash-manual"
            to="/console/refunds?status=manual"
            load={async () => unwrap(await api.GET('/v1/refunds', { params: { query: { status: 'manual', limit: dashboardCountLimit } } }))}
            render={refundLine}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('待退款（已排期）', 'Refunds due (scheduled)')}
            testId="dash-scheduled"
            to="/console/refunds?status=scheduled"
            load={async () => unwrap(await api.GET('/v1/refunds', { params: { query: { status: 'scheduled', limit: dashboardCountLimit } } }))}
            render={refundLine}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('退汇待处理', 'Refunds returned by the payee bank')}
            testId="dash-returned"
            to="/console/refunds?status=returned"
            load={async () => unwrap(await api.GET('/v1/refunds', { params: { query: { status: 'returned', limit: dashboardCountLimit } } }))}
            render={refundLine}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('待查款项（未知子账户）', 'Suspense credits (unknown sub-account)')}
            testId="dash-suspense"
            to="/console/suspense"
            load={async () => unwrap(await api.GET('/v1/deposits', { params: { query: { status: 'suspense', limit: dashboardCountLimit } } }))}
            render={(d) => (
              <Link to={hrefOf.deposit(d.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{d.id}</span>
                <Money amount={d.amount} />
                <span>{d.credit.debtor.name}</span>
              </Link>
            )}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('待裁定到账时间的保证金', 'Deposits held for a decision (R3)')}
            testId="dash-held"
            to="/console/suspense?status=held"
            load={async () => unwrap(await api.GET('/v1/deposits', { params: { query: { status: 'held', limit: dashboardCountLimit } } }))}
            render={(d) => (
              <Link to={hrefOf.deposit(d.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{d.id}</span>
                <Money amount={d.amount} />
              </Link>
            )}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('未处理的银行异常', 'Open bank exceptions')}
            testId="dash-bank-exceptions"
            to="/console/bank-exceptions?status=open"
            load={async () => unwrap(await api.GET('/v1/bank-exceptions', { params: { query: { status: 'open', limit: dashboardCountLimit } } }))}
            render={(x) => (
              <Link to={hrefOf.bankException(x.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <Tag>{kindWord(x.kind)}</Tag>
                {x.currency && x.currency !== 'CNY' ? <span>{`${x.amount} ${x.currency}`}</span> : <Money amount={x.amount} />}
                <span>{x.entryRef}</span>
              </Link>
            )}
          />
        </Col>
        <Col xs={24} lg={12}>
          <CountCard
            title={t('有未处理差异的对账', 'Reconciliations with open exceptions')}
            testId="dash-reconciliations"
            to="/console/reconciliations"
            load={async () => {
              const r = await reconciliationsWithOpenExceptions();
              return { data: r.items, hasMore: !r.complete };
            }}
            render={(r) => (
              <Link to={hrefOf.reconciliation(r.id)} style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
                <span>{r.statementDate}</span>
                <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{r.id}</span>
                <Typography.Text type="danger">{t(`${r.openExceptions} 项未处理（共 ${r.exceptionCount} 项）`, `${r.openExceptions} open of ${r.exceptionCount}`)}</Typography.Text>
              </Link>
            )}
          />
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('工作日历覆盖（R19）', 'Working-day calendar coverage (R19)')} size="small" data-testid="dash-calendar">
            <ErrorAlert error={calendar.error} />
            {calendar.data ? (
              <>
                <Statistic
                  title={t('覆盖至', 'Covered through')}
                  value={calendar.data.coveredThrough ?? t('未覆盖今年', 'this year not covered')}
                  styles={{ content: { fontSize: 22, color: calendar.data.daysCoveredAhead < calendarDaysAheadWarn ? '#a11d1d' : undefined } }}
                />
                <Typography.Paragraph>
                  {t(`今天之后还有 ${calendar.data.daysCoveredAhead} 天`, `${calendar.data.daysCoveredAhead} days ahead of today`)}
                  {' · '}
                  {t('已载入年份', 'Years loaded')}: {calendar.data.years.join(', ') || '—'}
                </Typography.Paragraph>
              </>
            ) : null}
          </Card>
        </Col>
      </Row>
    </>
  );
}
