// E-guarantees: the list with the API's filters, and one guarantee with its facts, rule checks,
// vouchers and history; the centre's 验真 (a signed verification report) and its claim on the
// issuer, on an R12 ground only (the auditor sees neither change).
import { Alert, Button, Card, Form, Input, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, StatusTag, useLoad, VoucherLinks } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, DecisionForm, Facts, hrefOf, IdLink, JsonFacts, type Guarantee, type Json, type ListPage } from './common';
import { forfeitReasonWords } from './SectionLifecycle';

const guaranteeStatuses = ['issued', 'amended', 'secured', 'released', 'claimed', 'claim_paid', 'claim_refused', 'rejected', 'cancelled', 'expired'] as const;
type GuaranteeStatus = (typeof guaranteeStatuses)[number];
/** The statuses a claim may be made from (the service refuses any other). */
const claimableStatuses: readonly string[] = ['issued', 'amended', 'secured'];
const claimReasons = ['withdrawal_after_deadline', 'refused_to_sign', 'conditions_at_signing', 'no_performance_security', 'false_documents'] as const;
type ClaimReason = (typeof claimReasons)[number];

const kindWords: Record<string, readonly [string, string]> = {
  bank: ['银行保函', 'Bank guarantee'],
  insurance: ['保证保险', 'Surety insurance'],
  guarantor: ['担保公司保函', 'Guarantee company'],
};

const idPatterns = { sectionId: /^sec_[0-9a-z]{26}$/, bidderId: /^bdr_[0-9a-z]{26}$/ };
const amountPattern = /^\d{1,15}(\.\d{1,2})?$/;
const sha256Pattern = /^[0-9a-fA-F]{64}$/;

type Verification = Json<'/v1/guarantees/verify', 'get'>;
type ClaimAnswer = Json<'/v1/guarantees/{id}/claims', 'post'>;

interface AuditEvent {
  seq: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  data: unknown;
}

function useWords() {
  const { t } = useLang();
  return {
    kind: (k: string) => (kindWords[k] ? t(kindWords[k][0], kindWords[k][1]) : k),
    reason: (r: string) => (forfeitReasonWords[r] ? t(forfeitReasonWords[r][0], forfeitReasonWords[r][1]) : r),
  };
}

interface Filters {
  status?: GuaranteeStatus;
  sectionId?: string;
  bidderId?: string;
}

export function GuaranteeList() {
  const { t } = useLang();
  const words = useWords();
  const [params, setParams] = useSearchParams();
  const status = (guaranteeStatuses as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as GuaranteeStatus) : undefined;
  const filters: Filters = { status, sectionId: params.get('sectionId') ?? undefined, bidderId: params.get('bidderId') ?? undefined };
  const setFilters = (f: Filters) => setParams(Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as Record<string, string>, { replace: true });
  return (
    <>
      <PageTitle>{t('电子保函', 'Guarantees')}</PageTitle>
      <Form<Filters>
        layout="inline"
        style={{ marginBottom: 12, rowGap: 8 }}
        initialValues={filters}
        onFinish={(v) => setFilters({ status: v.status, sectionId: v.sectionId?.trim() || undefined, bidderId: v.bidderId?.trim() || undefined })}
      >
        <Form.Item name="status" label={t('状态', 'Status')} htmlFor="guarantee-status">
          <Select id="guarantee-status" allowClear style={{ width: 160 }} placeholder={t('全部', 'All')} options={guaranteeStatuses.map((s) => ({ value: s, label: <StatusTag status={s} /> }))} />
        </Form.Item>
        <Form.Item name="sectionId" label={t('标段编号', 'Section id')} rules={[{ pattern: idPatterns.sectionId, message: t('应为 sec_ 开头的编号', 'An id starting sec_') }]}>
          <Input style={{ width: 280 }} allowClear spellCheck={false} />
        </Form.Item>
        <Form.Item name="bidderId" label={t('投标人编号', 'Bidder id')} rules={[{ pattern: idPatterns.bidderId, message: t('应为 bdr_ 开头的编号', 'An id starting bdr_') }]}>
          <Input style={{ width: 280 }} allowClear spellCheck={false} />
        </Form.Item>
        <Button htmlType="submit">{t('筛选', 'Filter')}</Button>
      </Form>
      <CursorTable<Guarantee>
        key={JSON.stringify(filters)}
        label={t('保函列表', 'Guarantee list')}
        rowKey="id"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/guarantees', { params: { query: { ...filters, cursor, limit } } }))}
        columns={[
          { title: t('保函编号', 'Number'), dataIndex: 'number', render: (n: string, g) => <Link to={hrefOf.guarantee(g.id)}>{n}</Link> },
          { title: t('状态', 'Status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('类型', 'Kind'), dataIndex: 'kind', render: (k: string) => words.kind(k) },
          { title: t('申请人（投标人）', 'Applicant (bidder)'), dataIndex: ['applicant', 'name'] },
          { title: t('金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (a: string) => <Money amount={a} /> },
          { title: t('有效期', 'Valid'), dataIndex: 'validFrom', render: (f: string, g) => `${f} – ${g.validTo}` },
          { title: t('标段', 'Section'), dataIndex: 'sectionId', render: (id: string, g) => <Link to={hrefOf.section(id)}>{`${g.projectCode} / ${g.sectionCode}`}</Link> },
        ]}
      />
    </>
  );
}

/** 验真 of this guarantee, optionally of a document by its SHA-256: the answer and its signed
 *  report. The auditor may ask too (the API lets it: a verification changes no record). */
function VerifyCard({ g, onVerified }: { g: Guarantee; onVerified: () => void }) {
  const { t } = useLang();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Verification>();
  const [error, setError] = useState<unknown>();
  const reportOf = (r: Verification) => (r.voucherId ? (g.vouchers.find((v) => v.id === r.voucherId) ?? { id: r.voucherId, kind: 'verification_report', status: 'pending' }) : undefined);
  const report = result && reportOf(result);
  return (
    <Card size="small" title={t('验真', 'Verify (验真)')} style={{ marginTop: 16 }}>
      <Form<{ documentSha256?: string }>
        layout="vertical"
        name="guarantee-verify"
        style={{ maxWidth: 640 }}
        onFinish={async (v) => {
          setBusy(true);
          setError(undefined);
          setResult(undefined);
          try {
            const documentSha256 = v.documentSha256?.trim().toLowerCase() || undefined;
            setResult(unwrap(await api.GET('/v1/guarantees/verify', { params: { query: { issuerId: g.issuerId, number: g.number, documentSha256 } } })));
            onVerified();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Form.Item
          name="documentSha256"
          label={t('保函文件的 SHA-256（可选：核对文件是否为出具机构所签）', "The document's SHA-256 (optional: checks the file is the one the issuer signed)")}
          rules={[{ pattern: sha256Pattern, message: t('应为 64 位十六进制', '64 hexadecimal digits') }]}
        >
          <Input spellCheck={false} autoComplete="off" />
        </Form.Item>
        <Button htmlType="submit" loading={busy} data-testid="guarantee-verify-submit">
          {t('验真并出具报告', 'Verify and issue a report')}
        </Button>
      </Form>
      <div style={{ marginTop: 12 }} aria-live="polite">
        <ErrorAlert error={error} />
        {result ? (
          <div data-testid="guarantee-verification">
            <Alert
              type={result.authentic ? 'success' : 'error'}
              showIcon
              role="status"
              title={result.authentic ? t('保函真实：由出具机构签名报送', 'Authentic: sent to us signed by its issuer') : t('未通过验真', 'Not authentic')}
              description={
                <Space wrap>
                  <StatusTag status={result.status} />
                  {report ? (
                    <span>
                      {t('验真报告', 'Report')}: <VoucherLinks vouchers={[report]} />
                    </span>
                  ) : null}
                </Space>
              }
            />
            <RuleChecks checks={result.checks} />
          </div>
        ) : null}
      </div>
    </Card>
  );
}

function ClaimForm({ g, onClaimed }: { g: Guarantee; onClaimed: (answer: ClaimAnswer) => void }) {
  const { t } = useLang();
  const words = useWords();
  if (!claimableStatuses.includes(g.status)) {
    return (
      <Typography.Paragraph type="secondary" style={{ marginTop: 16 }} data-testid="guarantee-claim-closed">
        {t('该保函状态为', 'This guarantee is')} <StatusTag status={g.status} />
        {t('，不能再索赔。', ': it can no longer be claimed on.')}
      </Typography.Paragraph>
    );
  }
  return (
    <DecisionForm<{ reason: ClaimReason; amount: string }>
      name="guarantee-claim"
      title={t('索赔（R12）', 'Claim (R12)')}
      submitText={t('提出索赔', 'Claim')}
      danger
      confirmTitle={t('确认向出具机构索赔', 'Confirm the claim on the issuer')}
      confirmText={(v) => (
        <div data-testid="guarantee-claim-confirm-text">
          {t(`向出具机构索赔 ¥${v.amount}（保函金额 ¥${g.amount}），理由：${words.reason(v.reason)}（R12）。索赔将签名发送给出具机构并出具索赔通知，不可撤销。`,
            `Claim ¥${v.amount} (of the guarantee's ¥${g.amount}) from the issuer, because: ${words.reason(v.reason)} (R12). The claim is sent signed to the issuer with a claim notice; this cannot be undone.`)}
        </div>
      )}
      initialValues={{ amount: g.amount }}
      onSubmit={async (v) => unwrap(await api.POST('/v1/guarantees/{id}/claims', { params: { path: { id: g.id } }, body: { reason: v.reason, amount: v.amount.trim() } }))}
      onDone={(a) => onClaimed(a as ClaimAnswer)}
    >
      <Form.Item name="reason" label={t('索赔理由（R12 法定情形）', 'Reason (an R12 ground)')} rules={[{ required: true, message: t('请选择索赔理由', 'Choose the reason') }]}>
        <Select options={claimReasons.map((r) => ({ value: r, label: words.reason(r) }))} />
      </Form.Item>
      <Form.Item
        name="amount"
        label={t('索赔金额（元，不超过保函金额）', 'Amount (yuan, at most the guarantee amount)')}
        rules={[
          { required: true, message: t('请输入金额', 'Enter the amount') },
          { pattern: amountPattern, message: t('金额如 50000.00，最多两位小数', 'An amount like 50000.00, at most two decimals') },
        ]}
      >
        <Input inputMode="decimal" autoComplete="off" />
      </Form.Item>
    </DecisionForm>
  );
}

function History({ id }: { id: string }) {
  const { t } = useLang();
  return (
    <CursorTable<AuditEvent>
      label={t('保函记录（审计日志，按先后）', 'History of this guarantee (audit log, oldest first)')}
      rowKey="seq"
      load={async (cursor, limit) => unwrap(await api.GET('/v1/audit', { params: { query: { entityType: 'guarantee', entityId: id, cursor, limit } } })) as unknown as ListPage<AuditEvent>}
      expandable={{ expandedRowRender: (e) => <JsonFacts value={e.data} /> }}
      columns={[
        { title: t('时间', 'When'), dataIndex: 'at', render: (s: string) => beijingTime(s) },
        { title: t('动作', 'Action'), dataIndex: 'action' },
        { title: t('操作者', 'Actor'), dataIndex: 'actor', render: (a: AuditEvent['actor']) => `${a.type}${a.id ? ` ${a.id}` : ''}` },
      ]}
    />
  );
}

export function GuaranteeDetail() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const words = useWords();
  const { readOnly } = useSession();
  const guarantee = useLoad(async () => unwrap(await api.GET('/v1/guarantees/{id}', { params: { path: { id } } })), [id]);
  const g = guarantee.data;
  const issuer = useLoad(async () => (g ? unwrap(await api.GET('/v1/issuers/{id}', { params: { path: { id: g.issuerId } } })) : undefined), [g?.issuerId]);
  const section = useLoad(async () => (g ? unwrap(await api.GET('/v1/sections/{id}', { params: { path: { id: g.sectionId } } })) : undefined), [g?.sectionId]);
  const [claim, setClaim] = useState<ClaimAnswer>();
  const [tick, setTick] = useState(0);
  const reload = () => {
    guarantee.reload();
    setTick((x) => x + 1);
  };
  return (
    <>
      <PageTitle>
        {t('电子保函', 'Guarantee')} {g ? <span style={{ fontFamily: 'monospace', fontSize: 16 }}>{g.number}</span> : null}
      </PageTitle>
      <ErrorAlert error={guarantee.error} />
      {g ? (
        <>
          <Facts
            items={[
              { key: 'status', label: t('状态', 'Status'), children: <span data-testid="guarantee-status"><StatusTag status={g.status} /></span> },
              { key: 'number', label: t('保函编号', 'Number'), children: g.number },
              { key: 'issuer', label: t('出具机构', 'Issuer'), children: <span>{issuer.data ? `${issuer.data.name} · ` : ''}<IdLink id={g.issuerId} to={hrefOf.registry(g.issuerId)} /></span> },
              { key: 'kind', label: t('类型（R8）', 'Kind (R8)'), children: words.kind(g.kind) },
              { key: 'bidder', label: t('申请人（投标人）', 'Applicant (bidder)'), children: <span>{`${g.applicant.name} (${g.applicant.uscc}) · `}<IdLink id={g.bidderId} to={hrefOf.registry(g.bidderId)} /></span> },
              { key: 'beneficiary', label: t('受益人（R7）', 'Beneficiary (R7)'), children: `${g.beneficiary.name} (${g.beneficiary.uscc})` },
              { key: 'section', label: t('标段', 'Section'), children: <Link to={hrefOf.section(g.sectionId)}>{`${g.projectCode} / ${g.sectionCode}${section.data ? ` ${section.data.name}` : ''}`}</Link> },
              { key: 'amount', label: t('担保金额（R4）', 'Amount (R4)'), children: <Money amount={g.amount} /> },
              { key: 'validity', label: t('有效期（R2）', 'Valid (R2)'), children: `${g.validFrom} – ${g.validTo}` },
              { key: 'issued', label: t('出具时间（R3）', 'Issued at (R3)'), children: beijingTime(g.issuedAt) },
              ...(g.issuingBankCode ? [{ key: 'bank', label: t('出具银行行号（R6）', 'Issuing bank (R6)'), children: g.issuingBankCode }] : []),
              { key: 'document', label: t('保函文件 SHA-256', 'Document SHA-256'), children: <span style={{ fontFamily: 'monospace', fontSize: 12, wordBreak: 'break-all' }}>{g.documentSha256}</span> },
              ...(g.applicationId ? [{ key: 'application', label: t('申请', 'Application'), children: <IdLink id={g.applicationId} /> }] : []),
              ...(g.claim
                ? [{ key: 'claim', label: t('索赔（R12）', 'Claim (R12)'), children: <span data-testid="guarantee-claim-facts">{`${words.reason(g.claim.reason)} · `}<Money amount={g.claim.amount} />{g.claim.claimedAt ? ` · ${beijingTime(g.claim.claimedAt)}` : ''}</span> }]
                : []),
              ...(g.release ? [{ key: 'release', label: t('解除', 'Released'), children: `${beijingTime(g.release.releasedAt)}${g.release.reason ? ` · ${g.release.reason}` : ''}` }] : []),
              { key: 'updated', label: t('更新时间', 'Updated'), children: beijingTime(g.updatedAt) },
              { key: 'vouchers', label: t('验真报告与凭证', 'Reports and vouchers'), children: <span data-testid="guarantee-vouchers"><VoucherLinks vouchers={g.vouchers} /></span> },
            ]}
          />
          {claim ? (
            <Alert
              style={{ marginTop: 12 }}
              type="info"
              showIcon
              role="status"
              data-testid="guarantee-claim-answer"
              title={t('接口返回：已索赔', 'The API answered: claimed')}
              description={
                <Space wrap>
                  <StatusTag status={claim.status} />
                  {claim.claim ? <span>{`${words.reason(claim.claim.reason)} · `}<Money amount={claim.claim.amount} /></span> : null}
                  <span>{t('索赔通知', 'Claim notice')}: <IdLink id={claim.voucherId} /></span>
                </Space>
              }
            />
          ) : null}
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('规则校验', 'Rule checks')}
          </Typography.Title>
          <RuleChecks checks={g.checks} />
          <VerifyCard g={g} onVerified={reload} />
          {readOnly ? null : (
            <ClaimForm
              key={g.status}
              g={g}
              onClaimed={(a) => {
                setClaim(a);
                reload();
              }}
            />
          )}
          <Typography.Title level={2} style={{ fontSize: 17, marginTop: 20 }}>
            {t('记录', 'History')}
          </Typography.Title>
          <History key={tick} id={g.id} />
        </>
      ) : null}
    </>
  );
}
