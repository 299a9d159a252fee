// Sections: the list, and one section with its lifecycle (opening, award, contract, termination,
// postponement, forfeiture), the roster fixed at opening, and its deposits and guarantees with
// each one's rule checks and vouchers.
import { Form, Select, Space, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, ApiFailure, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, StatusTag, useLoad, VoucherLinks } from '../../components';
import { beijingTime, countdown } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, DataTable, Facts, hrefOf, IdLink, loadVouchers, type DepositSummary, type Guarantee, type Roster, type Section } from './common';
import { refundColumns } from './Refunds';
import { Lifecycle, LifecycleAnswer } from './SectionLifecycle';

const sectionStatuses = ['open', 'opened', 'awarded', 'contracted', 'closed', 'terminated'] as const;
type SectionStatus = (typeof sectionStatuses)[number];

const regimeWords: Record<string, readonly [string, string]> = {
  tendering_law: ['招标投标法', 'Tendering law'],
  government_procurement: ['政府采购', 'Government procurement'],
};

export function SectionList() {
  const { t, lang } = useLang();
  const [params, setParams] = useSearchParams();
  const status = (sectionStatuses as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as SectionStatus) : undefined;
  const now = Date.now();
  return (
    <>
      <PageTitle>{t('标段', 'Sections')}</PageTitle>
      <Form layout="inline" style={{ marginBottom: 12 }}>
        <Form.Item label={t('状态', 'Status')} htmlFor="section-status">
          <Select
            id="section-status"
            allowClear
            style={{ width: 160 }}
            placeholder={t('全部', 'All')}
            value={status}
            onChange={(v) => setParams(v ? { status: v } : {}, { replace: true })}
            options={sectionStatuses.map((s) => ({ value: s, label: <StatusTag status={s} /> }))}
          />
        </Form.Item>
      </Form>
      <CursorTable<Section>
        key={status ?? 'all'}
        label={t('标段列表', 'Section list')}
        rowKey="id"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/sections', { params: { query: { status, cursor, limit } } }))}
        columns={[
          { title: t('项目 / 标段', 'Project / section'), dataIndex: 'name', render: (n: string, s) => <Link to={hrefOf.section(s.id)}>{`${s.projectCode} / ${s.sectionCode} ${n}`}</Link> },
          { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('投标截止', 'Bid deadline'), dataIndex: 'bidDeadline', render: (d: string, s) => `${beijingTime(d)}${s.status === 'open' ? ` (${countdown(d, now, lang)})` : ''}` },
          { title: t('保证金', 'Deposit'), dataIndex: 'depositAmount', align: 'right', render: (a: string) => <Money amount={a} /> },
          { title: t('适用', 'Regime'), dataIndex: 'regime', render: (r: string) => (regimeWords[r] ? t(regimeWords[r][0], regimeWords[r][1]) : r) },
        ]}
      />
    </>
  );
}

function RosterView({ sectionId, roster }: { sectionId: string; roster: Roster }) {
  const { t } = useLang();
  const vouchers = useLoad(() => loadVouchers(roster.id), [roster.id]);
  return (
    <section aria-label={t('开标保证金名册', 'Opening roster')}>
      <Facts
        items={[
          { key: 'opened', label: t('开标时间', 'Opened at'), children: beijingTime(roster.openedAt) },
          { key: 'required', label: t('应缴保证金', 'Required'), children: <Money amount={roster.requiredDeposit} /> },
          { key: 'vouchers', label: t('名册凭证', 'Roster voucher'), children: <VoucherLinks vouchers={vouchers.data} /> },
        ]}
      />
      <DataTable label={t('开标名册', 'Roster')}
        size="small"
        rowKey="bidderId"
        pagination={false}
       
        style={{ marginTop: 12 }}
        dataSource={roster.entries}
        data-testid={`roster-${sectionId}`}
        columns={[
          { title: t('投标人', 'Bidder'), dataIndex: 'name', render: (n: string, e) => <span>{n} <Typography.Text type="secondary" style={{ fontSize: 12 }}>{e.uscc}</Typography.Text></span> },
          { title: t('担保方式', 'Security'), dataIndex: 'security', render: (s: string | null) => (s === 'cash' ? t('现金保证金', 'cash') : s === 'guarantee' ? t('电子保函', 'guarantee') : '—') },
          { title: t('结果', 'Result'), dataIndex: 'status', render: (s: string) => <Tag color={s === 'secured' ? 'green' : 'red'}>{s === 'secured' ? t('已担保', 'secured') : s === 'insufficient' ? t('不足', 'insufficient') : s === 'invalid' ? t('无效', 'invalid') : t('未缴', 'missing')}</Tag> },
          { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string | null) => <Money amount={a} /> },
          { title: t('规则', 'Rules'), dataIndex: 'rules', render: (r: string[]) => r.join(', ') || '—' },
          { title: t('保证金 / 保函', 'Deposits / guarantee'), dataIndex: 'depositIds', render: (ids: string[], e) => (
            <Space wrap size={4}>
              {ids.map((d) => <IdLink key={d} id={d} to={hrefOf.deposit(d)} />)}
              {e.guaranteeId ? <IdLink id={e.guaranteeId} /> : null}
            </Space>
          ) },
        ]}
      />
    </section>
  );
}

function RecordVouchers({ subjectId }: { subjectId: string }) {
  const vouchers = useLoad(() => loadVouchers(subjectId), [subjectId]);
  if (vouchers.error) return <ErrorAlert error={vouchers.error} />;
  return <VoucherLinks vouchers={vouchers.data} />;
}

function DepositsOfSection({ sectionId }: { sectionId: string }) {
  const { t } = useLang();
  return (
    <CursorTable<DepositSummary>
      label={t('本标段保证金', 'Deposits of this section')}
      rowKey="id"
      load={async (cursor, limit) => unwrap(await api.GET('/v1/deposits', { params: { query: { sectionId, cursor, limit } } }))}
      expandable={{
        expandedRowRender: (d) => (
          <div>
            <RuleChecks checks={d.checks} />
            <div style={{ marginTop: 8 }}>
              {t('凭证', 'Vouchers')}: <RecordVouchers subjectId={d.id} />
            </div>
          </div>
        ),
      }}
      columns={[
        { title: t('保证金', 'Deposit'), dataIndex: 'id', render: (id: string) => <IdLink id={id} to={hrefOf.deposit(id)} /> },
        { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
        { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string) => <Money amount={a} /> },
        { title: t('付款人', 'Payer'), dataIndex: ['credit', 'debtor'], render: (p: { name: string; accountNumber: string }) => `${p.name} ${p.accountNumber}` },
        { title: t('到账时间', 'Booked at'), dataIndex: ['credit', 'bookedAt'], render: (s: string) => beijingTime(s) },
        { title: t('未通过规则', 'Rules failed'), dataIndex: 'rules', render: (r: string[]) => (r.length ? r.join(', ') : '—') },
      ]}
    />
  );
}

function GuaranteesOfSection({ sectionId }: { sectionId: string }) {
  const { t } = useLang();
  return (
    <CursorTable<Guarantee>
      label={t('本标段保函', 'Guarantees of this section')}
      rowKey="id"
      load={async (cursor, limit) => unwrap(await api.GET('/v1/guarantees', { params: { query: { sectionId, cursor, limit } } }))}
      expandable={{
        expandedRowRender: (g) => (
          <div>
            <RuleChecks checks={g.checks} />
            <div style={{ marginTop: 8 }}>
              {t('凭证', 'Vouchers')}: <RecordVouchers subjectId={g.id} />
            </div>
          </div>
        ),
      }}
      columns={[
        { title: t('保函编号', 'Number'), dataIndex: 'number', render: (n: string, g) => <Link to={hrefOf.guarantee(g.id)}>{n}</Link> },
        { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
        { title: t('类型', 'Kind'), dataIndex: 'kind' },
        { title: t('申请人', 'Applicant'), dataIndex: ['applicant', 'name'] },
        { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string) => <Money amount={a} /> },
        { title: t('有效期', 'Valid'), dataIndex: 'validFrom', render: (f: string, g) => `${f} – ${g.validTo}` },
      ]}
    />
  );
}

export function SectionDetail() {
  const { id = '' } = useParams();
  const { t, lang } = useLang();
  const { readOnly } = useSession();
  const section = useLoad(async () => unwrap(await api.GET('/v1/sections/{id}', { params: { path: { id } } })), [id]);
  const s = section.data;
  const tenderee = useLoad(async () => (s ? unwrap(await api.GET('/v1/tenderees/{id}', { params: { path: { id: s.tendereeId } } })) : undefined), [s?.tendereeId]);
  const roster = useLoad(async () => {
    // Nothing to ask for before the opening.
    if (!s || s.status === 'open') return undefined;
    try {
      return unwrap(await api.GET('/v1/sections/{id}/roster', { params: { path: { id } } }));
    } catch (e) {
      // No roster before the opening.
      if (e instanceof ApiFailure && e.status === 404) return undefined;
      throw e;
    }
  }, [id, s?.status]);
  const [tick, setTick] = useState(0);
  const [answer, setAnswer] = useState<unknown>();
  const reload = (a: unknown) => {
    setAnswer(a);
    section.reload();
    setTick((x) => x + 1);
  };
  return (
    <>
      <PageTitle>{s ? `${s.projectCode} / ${s.sectionCode} ${s.name}` : t('标段', 'Section')}</PageTitle>
      <ErrorAlert error={section.error} />
      {s ? (
        <>
          <Facts
            items={[
              { key: 'status', label: t('状态', 'Status'), children: <StatusTag status={s.status} /> },
              { key: 'tenderee', label: t('招标人', 'Tenderee'), children: tenderee.data ? `${tenderee.data.name} (${tenderee.data.uscc})` : <IdLink id={s.tendereeId} /> },
              { key: 'regime', label: t('适用', 'Regime'), children: regimeWords[s.regime] ? t(regimeWords[s.regime][0], regimeWords[s.regime][1]) : s.regime },
              { key: 'deadline', label: t('投标截止（北京时间）', 'Bid deadline (Beijing)'), children: `${beijingTime(s.bidDeadline)}${s.status === 'open' ? ` · ${countdown(s.bidDeadline, Date.now(), lang)}` : ''}` },
              { key: 'validity', label: t('投标有效期', 'Bid validity'), children: t(`${s.bidValidityDays} 天`, `${s.bidValidityDays} days`) },
              { key: 'estimated', label: t('估算价', 'Estimated price'), children: <Money amount={s.estimatedPrice} /> },
              { key: 'deposit', label: t('保证金（R1）', 'Deposit (R1)'), children: <Money amount={s.depositAmount} /> },
              { key: 'accepted', label: t('接受的担保方式（R8）', 'Security accepted (R8)'), children: s.acceptedSecurity.join(', ') },
              { key: 'match', label: t('保函开户行一致（R6）', 'Guarantee bank match (R6)'), children: s.guaranteeBankMatch },
              { key: 'bank', label: t('存款银行', 'Deposit bank'), children: <IdLink id={s.depositBankId} to={s.depositBankId ? hrefOf.registry(s.depositBankId) : undefined} /> },
              { key: 'refunds', label: t('退款', 'Refunds'), children: <Link to={`/console/refunds?sectionId=${s.id}`}>{t('本标段退款', "This section's refunds")}</Link> },
            ]}
          />
          {answer ? <LifecycleAnswer answer={answer} /> : null}
          <Tabs
            style={{ marginTop: 16 }}
            items={[
              ...(readOnly ? [] : [{ key: 'actions', label: t('操作', 'Actions'), children: <Lifecycle key={`${s.status}-${tick}`} section={s} roster={roster.data} onChanged={reload} /> }]),
              {
                key: 'roster',
                label: t('开标名册', 'Roster'),
                children: roster.error ? <ErrorAlert error={roster.error} /> : roster.data ? <RosterView sectionId={s.id} roster={roster.data} /> : <Typography.Text type="secondary">{s.status === 'open' ? t('尚未开标（R18：开标前不公开投标人）', 'Not opened yet (R18: no bidder is shown before the opening)') : t('没有开标名册：本标段未经开标。', 'No roster: this section was never opened.')}</Typography.Text>,
              },
              { key: 'deposits', label: t('保证金', 'Deposits'), children: <DepositsOfSection key={tick} sectionId={s.id} /> },
              { key: 'guarantees', label: t('保函', 'Guarantees'), children: <GuaranteesOfSection key={tick} sectionId={s.id} /> },
              {
                key: 'refunds',
                label: t('退款', 'Refunds'),
                children: (
                  <CursorTable
                    key={tick}
                    label={t('本标段退款', "This section's refunds")}
                    rowKey="id"
                    columns={refundColumns(t)}
                    load={async (cursor, limit) => unwrap(await api.GET('/v1/refunds', { params: { query: { sectionId: s.id, cursor, limit } } }))}
                  />
                ),
              },
            ]}
          />
        </>
      ) : null}
    </>
  );
}
