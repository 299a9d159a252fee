// The bidder's sections: every section on notice (a bidder may bid on any), those it already has
// money or guarantees in marked, each leading to its page with the sub-account to pay into.
import { Card, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, Money, PageTitle, StatusTag, useLoad } from '../../components';
import { useLang } from '../../i18n';
import { useSession } from '../../session';
import { CursorTable, Deadline, pageSize, sectionById, useCursorList } from './shared';

const sectionStatuses = ['open', 'opened', 'awarded', 'contracted', 'closed', 'terminated'] as const;
type SectionStatus = (typeof sectionStatuses)[number];

/** The sections this bidder has a deposit, a guarantee or an application on: the first hundred of
 *  each (the API's page maximum), enough to mark the rows of one page. */
export function useMySectionIds(bidderId: string | null | undefined) {
  return useLoad(async () => {
    if (!bidderId) return new Set<string>();
    const [deposits, guarantees, applications] = await Promise.all([
      api.GET('/v1/deposits', { params: { query: { bidderId, limit: 100 } } }).then(unwrap),
      api.GET('/v1/guarantees', { params: { query: { bidderId, limit: 100 } } }).then(unwrap),
      api.GET('/v1/guarantee-applications', { params: { query: { bidderId, limit: 100 } } }).then(unwrap),
    ]);
    const ids = new Set<string>();
    for (const d of deposits.data) if (d.sectionId) ids.add(d.sectionId);
    for (const g of guarantees.data) ids.add(g.sectionId);
    for (const a of applications.data) ids.add(a.sectionId);
    return ids;
  }, [bidderId]);
}

/** The sections the bidder has paid into, holds a guarantee on or applied for one. */
function MySections({ ids, loading, error }: { ids: Set<string> | undefined; loading: boolean; error: unknown }) {
  const { t } = useLang();
  const key = [...(ids ?? [])].sort().join(',');
  const sections = useLoad(async () => Promise.all([...(ids ?? [])].map((id) => sectionById(id))), [key]);
  return (
    <Card title={t('我参与的标段', 'Sections I take part in')}>
      <ErrorAlert error={error ?? sections.error} />
      <Table
        aria-label={t('我参与的标段', 'Sections I take part in')}
        size="middle"
        rowKey="id"
        loading={loading || sections.loading}
        pagination={false}
        scroll={{ x: 'max-content' }}
        dataSource={sections.data ?? []}
        locale={{ emptyText: <Typography.Text type="secondary">{t('尚未缴纳保证金或提交保函', 'No deposit or guarantee yet')}</Typography.Text> }}
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
          { title: t('投标截止', 'Bid deadline'), dataIndex: 'bidDeadline', render: (v: string) => <Deadline at={v} /> },
        ]}
      />
    </Card>
  );
}

export function BidderSections() {
  const { t } = useLang();
  const { user } = useSession();
  const [status, setStatus] = useState<SectionStatus | undefined>('open');
  const mine = useMySectionIds(user?.bidderId);
  const list = useCursorList(
    async (cursor) => unwrap(await api.GET('/v1/sections', { params: { query: { limit: pageSize, cursor, status } } })),
    [status],
  );
  type Row = NonNullable<typeof list.data>['data'][number];
  return (
    <>
      <PageTitle>{t('我的标段', 'My sections')}</PageTitle>
      <MySections ids={mine.data} loading={mine.loading} error={mine.error} />
      <Card title={t('公告中的标段', 'Sections on notice')} style={{ marginTop: 16 }}>
        <Typography.Paragraph type="secondary">
          {t(
            '公告中的标段都可投标。打开标段查看本单位专用的保证金缴款子账号、应缴金额与截止时间。',
            'Every section on notice is open to bids. Open one to see the sub-account reserved for you, the amount to secure and the deadline.',
          )}
        </Typography.Paragraph>
        <Space style={{ marginBottom: 12 }} wrap>
          <label htmlFor="section-status-filter">{t('状态', 'Status')}</label>
          <Select<SectionStatus | 'all'>
            id="section-status-filter"
            style={{ width: 160 }}
            value={status ?? 'all'}
            onChange={(v) => setStatus(v === 'all' ? undefined : v)}
            options={[{ value: 'all', label: t('全部', 'All') }, ...sectionStatuses.map((s) => ({ value: s, label: <StatusTag status={s} /> }))]}
          />
        </Space>
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
            {
              title: t('我的参与', 'Mine'),
              key: 'mine',
              render: (_, s) => (mine.data?.has(s.id) ? <Tag color="blue">{t('已参与', 'taking part')}</Tag> : null),
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
