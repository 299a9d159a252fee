// The audit log, oldest first, filtered by record or action, and the check of its hash chain.
import { Alert, Button, Card, Form, Input, Space, Typography } from 'antd';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, PageTitle } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { CursorTable, JsonFacts, type Json, type ListPage } from './common';

interface AuditEvent {
  seq: string;
  id: string;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  entity: { type: string; id: string | null } | null;
  data: unknown;
  prevHash: string;
  hash: string;
}

type ChainCheck = Json<'/v1/audit/verify', 'get'>;

interface Filters {
  entityId?: string;
  entityType?: string;
  action?: string;
}

function ChainCheckCard() {
  const { t } = useLang();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ChainCheck>();
  const [error, setError] = useState<unknown>();
  return (
    <Card size="small" title={t('哈希链校验', 'Hash chain check')} style={{ marginBottom: 16 }}>
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Typography.Text>{t('重新计算每条记录的哈希，指出第一处断链。', 'Recomputes every event’s hash and names the first broken link.')}</Typography.Text>
        <Button
          loading={busy}
          data-testid="audit-verify"
          onClick={async () => {
            setBusy(true);
            setError(undefined);
            try {
              setResult(unwrap(await api.GET('/v1/audit/verify')));
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
            }
          }}
        >
          {t('校验', 'Check')}
        </Button>
        <ErrorAlert error={error} />
        {result ? (
          result.ok ? (
            <Alert type="success" showIcon role="status" title={t(`完整：已校验 ${result.eventsChecked} 条记录`, `Intact: ${result.eventsChecked} events checked`)} />
          ) : (
            <Alert
              type="error"
              showIcon
              role="alert"
              title={t(`断链：第 ${result.firstBroken?.seq} 条（${result.firstBroken?.id}）`, `Broken at event ${result.firstBroken?.seq} (${result.firstBroken?.id})`)}
              description={result.firstBroken?.reason}
            />
          )
        ) : null}
      </Space>
    </Card>
  );
}

export function AuditLog() {
  const { t } = useLang();
  const [filters, setFilters] = useState<Filters>({});
  return (
    <>
      <PageTitle>{t('审计日志', 'Audit log')}</PageTitle>
      <ChainCheckCard />
      <Form<Filters>
        layout="inline"
        style={{ marginBottom: 12, rowGap: 8 }}
        onFinish={(v) => setFilters({ entityId: v.entityId?.trim() || undefined, entityType: v.entityType?.trim() || undefined, action: v.action?.trim() || undefined })}
      >
        <Form.Item name="entityId" label={t('记录编号', 'Record id')}>
          <Input style={{ width: 260 }} />
        </Form.Item>
        <Form.Item name="entityType" label={t('记录类型', 'Record type')}>
          <Input style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="action" label={t('动作', 'Action')}>
          <Input style={{ width: 180 }} />
        </Form.Item>
        <Button htmlType="submit">{t('筛选', 'Filter')}</Button>
      </Form>
      <CursorTable<AuditEvent>
        key={JSON.stringify(filters)}
        label={t('审计记录（按先后）', 'Audit events, oldest first')}
        rowKey="seq"
        load={async (cursor, limit) => unwrap(await api.GET('/v1/audit', { params: { query: { ...filters, cursor, limit } } })) as unknown as ListPage<AuditEvent>}
        expandable={{
          expandedRowRender: (e) => (
            <div>
              <JsonFacts value={e.data} />
              <Typography.Text type="secondary" style={{ fontSize: 11, fontFamily: 'monospace', wordBreak: 'break-all' }}>
                prev {e.prevHash} · hash {e.hash}
              </Typography.Text>
            </div>
          ),
        }}
        columns={[
          { title: '#', dataIndex: 'seq' },
          { title: t('时间', 'When'), dataIndex: 'at', render: (s: string) => beijingTime(s) },
          { title: t('操作者', 'Actor'), dataIndex: 'actor', render: (a: AuditEvent['actor']) => `${a.type}${a.id ? ` ${a.id}` : ''}` },
          { title: t('动作', 'Action'), dataIndex: 'action' },
          { title: t('记录', 'Record'), dataIndex: 'entity', render: (e: AuditEvent['entity']) => (e ? `${e.type} ${e.id ?? ''}` : '—') },
        ]}
      />
    </>
  );
}
