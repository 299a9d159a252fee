// The tenderee's sections. Before the opening it learns nothing of who bid (R18): the page says so
// without a number, name or amount of any bidder, and asks the API for none. After the opening:
// the roster fixed at the opening, its voucher, and 验真 of each guarantee on it.
import { Alert, Button, Card, Descriptions, Modal, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiFailure, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, RuleChecks, ruleWords, StatusTag, useLoad, voucherKindNames } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { CursorTable, Deadline, pageSize, SectionFacts, securityKindWords, useCursorList, useRecordLayout } from '../bidder/shared';

export function TendereeSections() {
  const { t } = useLang();
  const list = useCursorList(async (cursor) => unwrap(await api.GET('/v1/sections', { params: { query: { limit: pageSize, cursor } } })), []);
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <>
      <PageTitle>{t('我的项目', 'My sections')}</PageTitle>
      <Card>
        <CursorTable<Row>
          list={list}
          rowKey="id"
          caption={t('标段列表', 'Sections')}
          columns={[
            {
              title: t('标段', 'Section'),
              key: 'name',
              render: (_, s) => (
                <Space direction="vertical" size={0}>
                  <Link to={`/console/sections/${s.id}`}>{s.name}</Link>
                  <Typography.Text type="secondary">
                    {s.projectCode}/{s.sectionCode}
                  </Typography.Text>
                </Space>
              ),
            },
            { title: t('状态', 'Status'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
            { title: t('投标保证金', 'Deposit'), dataIndex: 'depositAmount', align: 'right', render: (v: string) => <Money amount={v} /> },
            { title: t('投标截止', 'Bid deadline'), dataIndex: 'bidDeadline', render: (v: string) => <Deadline at={v} /> },
          ]}
        />
      </Card>
    </>
  );
}

export function TendereeSection() {
  const { id = '' } = useParams();
  const { t } = useLang();
  const section = useLoad(async () => unwrap(await api.GET('/v1/sections/{id}', { params: { path: { id } } })), [id]);
  const s = section.data;
  return (
    <>
      <PageTitle>{s ? s.name : t('标段', 'Section')}</PageTitle>
      <ErrorAlert error={section.error} />
      {s && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <SectionFacts section={s} />
          {s.status === 'open' ? <BeforeOpening /> : <Roster sectionId={s.id} />}
        </Space>
      )}
    </>
  );
}

/** Deliberately the same words whatever happened on the section: no count, no hint (R18). */
function BeforeOpening() {
  const { t } = useLang();
  return (
    <Card title={t('投标人担保情况', 'Bidders and their security')}>
      <Alert
        type="info"
        showIcon
        data-testid="before-opening"
        title={t('开标前不公开投标人信息（R18）', 'Nothing about bidders before the opening (R18)')}
        description={t(
          '依《招标投标法》第二十二条，开标前任何人不得向招标人透露已获取招标文件或提交投标担保的投标人名称、数量等情况。开标后，此处显示开标时确定的保证金名册及其凭证。',
          'Under Article 22 of the Tendering Law, nobody may tell the tenderee who obtained the documents or secured a bid, nor how many, before the opening. After the opening the roster fixed at the opening and its voucher appear here.',
        )}
      />
    </Card>
  );
}

const rosterStatusWords: Record<string, readonly [string, string]> = {
  secured: ['已担保', 'secured'],
  insufficient: ['金额不足', 'insufficient'],
  invalid: ['不符合规则', 'invalid'],
  missing: ['未提交担保', 'missing'],
};

function Roster({ sectionId }: { sectionId: string }) {
  const { t } = useLang();
  const layout = useRecordLayout();
  const roster = useLoad(async () => unwrap(await api.GET('/v1/sections/{id}/roster', { params: { path: { id: sectionId } } })), [sectionId]);
  const r = roster.data;
  const never = roster.error instanceof ApiFailure && roster.error.status === 404;
  const [verifying, setVerifying] = useState<{ guaranteeId: string; bidder: string }>();
  return (
    <Card title={t('开标保证金名册', 'The roster fixed at the opening')}>
      {never ? <Alert type="info" showIcon title={t('本标段没有开标名册。', 'This section has no roster.')} /> : <ErrorAlert error={roster.error} />}
      {r && (
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Descriptions layout={layout} column={{ xs: 1, sm: 1, md: 2 }} size="small" bordered>
            <Descriptions.Item label={t('开标时间', 'Opened')}>{beijingTime(r.openedAt)}</Descriptions.Item>
            <Descriptions.Item label={t('应缴保证金', 'Deposit required')}>
              <Money amount={r.requiredDeposit} />
            </Descriptions.Item>
            <Descriptions.Item label={t('名册凭证', 'Roster voucher')}>
              {r.voucherId ? (
                <Link to={`/verify/${r.voucherId}`} data-voucher-id={r.voucherId}>
                  {t(voucherKindNames.opening_roster[0], voucherKindNames.opening_roster[1])}
                  {t('（查验）', ' (verify)')}
                </Link>
              ) : (
                t('生成中', 'being signed')
              )}
            </Descriptions.Item>
          </Descriptions>
          <Table
            aria-label={t('开标保证金名册', 'Roster')}
            size="small"
            rowKey="bidderId"
            pagination={false}
            scroll={{ x: 'max-content' }}
            dataSource={r.entries}
            columns={[
              {
                title: t('投标人', 'Bidder'),
                key: 'name',
                render: (_, e) => (
                  <Space direction="vertical" size={0}>
                    <span>{e.name}</span>
                    <Typography.Text type="secondary">{e.uscc}</Typography.Text>
                  </Space>
                ),
              },
              {
                title: t('担保方式', 'Security'),
                dataIndex: 'security',
                render: (v: string | null) => (v && securityKindWords[v] ? t(securityKindWords[v][0], securityKindWords[v][1]) : '—'),
              },
              { title: t('结果', 'Result'), dataIndex: 'status', render: (v: string) => (rosterStatusWords[v] ? t(rosterStatusWords[v][0], rosterStatusWords[v][1]) : v) },
              { title: t('担保金额', 'Amount secured'), dataIndex: 'amount', align: 'right', render: (v: string | null) => <Money amount={v} /> },
              {
                title: t('依据规则', 'Rules applied'),
                dataIndex: 'rules',
                render: (v: string[]) =>
                  v.length ? (
                    <Space direction="vertical" size={0}>
                      {v.map((rule) => (
                        <span key={rule}>
                          {rule} {ruleWords[rule] ? t(ruleWords[rule][0], ruleWords[rule][1]) : ''}
                        </span>
                      ))}
                    </Space>
                  ) : (
                    '—'
                  ),
              },
              {
                title: t('保函验真', 'Verify guarantee'),
                key: 'verify',
                render: (_, e) =>
                  e.guaranteeId ? (
                    <Button size="small" onClick={() => setVerifying({ guaranteeId: e.guaranteeId!, bidder: e.name })}>
                      {t('验真', 'Verify')}
                    </Button>
                  ) : (
                    '—'
                  ),
              },
            ]}
          />
        </Space>
      )}
      <Modal
        open={!!verifying}
        title={t(`保函验真：${verifying?.bidder ?? ''}`, `Verify the guarantee of ${verifying?.bidder ?? ''}`)}
        onCancel={() => setVerifying(undefined)}
        footer={<Button onClick={() => setVerifying(undefined)}>{t('关闭', 'Close')}</Button>}
        destroyOnHidden
      >
        {verifying && <Verification guaranteeId={verifying.guaranteeId} />}
      </Modal>
    </Card>
  );
}

/** 验真: the guarantee as the service holds it, checked against the issuer's record and the rules. */
function Verification({ guaranteeId }: { guaranteeId: string }) {
  const { t } = useLang();
  const layout = useRecordLayout();
  const result = useLoad(async () => {
    const g = unwrap(await api.GET('/v1/guarantees/{id}', { params: { path: { id: guaranteeId } } }));
    return unwrap(await api.GET('/v1/guarantees/verify', { params: { query: { issuerId: g.issuerId, number: g.number, documentSha256: g.documentSha256 } } }));
  }, [guaranteeId]);
  const v = result.data;
  return (
    <>
      <ErrorAlert error={result.error} />
      {result.loading && <Typography.Text>{t('正在验真…', 'Verifying…')}</Typography.Text>}
      {v && (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="verification">
          <Alert
            type={v.authentic ? 'success' : 'error'}
            showIcon
            title={v.authentic ? t('保函真实有效', 'Authentic') : t('保函未通过验真', 'Not authentic')}
            description={
              <span>
                {t('状态：', 'Status: ')}
                <StatusTag status={v.status} />
              </span>
            }
          />
          {v.guarantee && (
            <Descriptions layout={layout} column={1} size="small" bordered>
              <Descriptions.Item label={t('保函编号', 'Number')}>{v.guarantee.number}</Descriptions.Item>
              <Descriptions.Item label={t('担保金额', 'Amount')}>
                <Money amount={v.guarantee.amount} />
              </Descriptions.Item>
              <Descriptions.Item label={t('有效期', 'Valid')}>
                {v.guarantee.validFrom} ~ {v.guarantee.validTo}
              </Descriptions.Item>
            </Descriptions>
          )}
          <RuleChecks checks={v.checks} />
          {v.voucherId && <Link to={`/verify/${v.voucherId}`}>{t(voucherKindNames.verification_report[0], voucherKindNames.verification_report[1])}</Link>}
        </Space>
      )}
    </>
  );
}
