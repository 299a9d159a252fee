// The bidder's e-guarantees (电子保函) and its applications to issuers through the service: status,
// issuer, amount, validity, each rule's result, vouchers.
import { Card, Descriptions, Space, Tabs, Typography } from 'antd';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, StatusTag, useLoad } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, IssuerName, pageSize, RecordVouchers, SectionName, securityKindWords, useCursorList, useRecordLayout } from './shared';

const applicationWords: Record<string, readonly [string, string]> = {
  submitted: ['已提交', 'submitted'],
  sent: ['已发送出函机构', 'sent to the issuer'],
  issued: ['已出函', 'issued'],
  declined: ['出函机构拒绝', 'declined by the issuer'],
  refused: ['不符合条件', 'refused: cannot qualify'],
};

function Kind({ kind }: { kind: string }) {
  const { t } = useLang();
  const w = securityKindWords[kind];
  return <span>{w ? t(w[0], w[1]) : kind}</span>;
}

function GuaranteeList({ bidderId }: { bidderId: string | undefined }) {
  const { t } = useLang();
  const list = useCursorList(async (cursor) => unwrap(await api.GET('/v1/guarantees', { params: { query: { limit: pageSize, cursor, bidderId } } })), [bidderId]);
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <CursorTable<Row>
      list={list}
      rowKey="id"
      caption={t('保函列表', 'Guarantees')}
      columns={[
        { title: t('保函编号', 'Number'), key: 'number', render: (_, g) => <Link to={`/console/guarantees/${g.id}`}>{g.number}</Link> },
        { title: t('标段', 'Section'), dataIndex: 'sectionId', render: (v: string) => <SectionName id={v} base="sections" /> },
        { title: t('种类', 'Kind'), dataIndex: 'kind', render: (v: string) => <Kind kind={v} /> },
        { title: t('出函机构', 'Issuer'), dataIndex: 'issuerId', render: (v: string) => <IssuerName id={v} /> },
        { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
        { title: t('担保金额', 'Amount'), dataIndex: 'amount', align: 'right', render: (v: string) => <Money amount={v} /> },
        { title: t('有效期', 'Valid'), key: 'valid', render: (_, g) => `${g.validFrom} ~ ${g.validTo}` },
        { title: t('凭证', 'Vouchers'), key: 'vouchers', render: (_, g) => <RecordVouchers record={g} /> },
      ]}
    />
  );
}

function ApplicationList({ bidderId }: { bidderId: string | undefined }) {
  const { t } = useLang();
  const list = useCursorList(
    async (cursor) => unwrap(await api.GET('/v1/guarantee-applications', { params: { query: { limit: pageSize, cursor, bidderId } } })),
    [bidderId],
  );
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <CursorTable<Row>
      list={list}
      rowKey="id"
      caption={t('保函申请列表', 'Guarantee applications')}
      columns={[
        { title: t('申请时间', 'Applied'), dataIndex: 'createdAt', render: (v: string) => beijingTime(v) },
        { title: t('标段', 'Section'), dataIndex: 'sectionId', render: (v: string) => <SectionName id={v} base="sections" /> },
        { title: t('种类', 'Kind'), dataIndex: 'kind', render: (v: string) => <Kind kind={v} /> },
        { title: t('出函机构', 'Issuer'), dataIndex: 'issuerId', render: (v: string) => <IssuerName id={v} /> },
        {
          title: t('状态', 'Status'),
          key: 'status',
          render: (_, a) => (
            <Space direction="vertical" size={0}>
              <span>{applicationWords[a.status] ? t(applicationWords[a.status][0], applicationWords[a.status][1]) : a.status}</span>
              {a.declineReason && <Typography.Text type="secondary">{a.declineReason}</Typography.Text>}
            </Space>
          ),
        },
        {
          title: t('保函', 'Guarantee'),
          dataIndex: 'guaranteeId',
          render: (v: string | null) => (v ? <Link to={`/console/guarantees/${v}`}>{t('查看', 'Open')}</Link> : '—'),
        },
      ]}
    />
  );
}

export function BidderGuarantees() {
  const { t } = useLang();
  const { user } = useSession();
  const bidderId = user?.bidderId ?? undefined;
  return (
    <>
      <PageTitle>{t('我的保函', 'My guarantees')}</PageTitle>
      <Card>
        <Tabs
          items={[
            { key: 'guarantees', label: t('电子保函', 'E-guarantees'), children: <GuaranteeList bidderId={bidderId} /> },
            { key: 'applications', label: t('保函申请', 'Applications'), children: <ApplicationList bidderId={bidderId} /> },
          ]}
        />
      </Card>
    </>
  );
}

export function BidderGuarantee() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const layout = useRecordLayout();
  const loaded = useLoad(async () => unwrap(await api.GET('/v1/guarantees/{id}', { params: { path: { id } } })), [id]);
  const g = loaded.data;
  return (
    <>
      <PageTitle>{t('保函详情', 'Guarantee')}</PageTitle>
      <ErrorAlert error={loaded.error} />
      {g && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Card>
            <Descriptions layout={layout} column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
              <Descriptions.Item label={t('保函编号', 'Number')}>{g.number}</Descriptions.Item>
              <Descriptions.Item label={t('状态', 'Status')}>
                <StatusTag status={g.status} />
              </Descriptions.Item>
              <Descriptions.Item label={t('种类', 'Kind')}>
                <Kind kind={g.kind} />
              </Descriptions.Item>
              <Descriptions.Item label={t('出函机构', 'Issuer')}>
                <IssuerName id={g.issuerId} />
              </Descriptions.Item>
              <Descriptions.Item label={t('标段', 'Section')}>
                <SectionName id={g.sectionId} base="sections" />
              </Descriptions.Item>
              <Descriptions.Item label={t('受益人', 'Beneficiary')}>{g.beneficiary.name}</Descriptions.Item>
              <Descriptions.Item label={t('担保金额', 'Amount')}>
                <Money amount={g.amount} />
              </Descriptions.Item>
              <Descriptions.Item label={t('有效期', 'Valid')}>
                {g.validFrom} ~ {g.validTo}
              </Descriptions.Item>
              <Descriptions.Item label={t('出函时间', 'Issued')}>{beijingTime(g.issuedAt)}</Descriptions.Item>
              <Descriptions.Item label={t('凭证', 'Vouchers')}>
                <RecordVouchers record={g} />
              </Descriptions.Item>
              {g.claim && (
                <Descriptions.Item label={t('索赔', 'Claim')}>
                  {g.claim.reason} · <Money amount={g.claim.amount} />
                </Descriptions.Item>
              )}
              {g.release && <Descriptions.Item label={t('解除时间', 'Released')}>{beijingTime(g.release.releasedAt)}</Descriptions.Item>}
            </Descriptions>
          </Card>
          <Card title={t('规则校验结果', 'What each rule found')}>
            <RuleChecks checks={g.checks} />
          </Card>
        </Space>
      )}
    </>
  );
}

