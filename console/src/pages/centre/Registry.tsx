// The registry, read-only: issuers and deposit banks with their signing certificates, and any
// tenderee, bidder, issuer or bank looked up by its id (the API lists neither tenderees nor
// bidders; their ids are on sections, deposits and refunds, which link here).
import { Button, Card, Form, Input, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ErrorAlert, PageTitle, useLoad } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import { CursorTable, DataTable, Facts, type Bank, type Issuer } from './common';

type Certificate = Issuer['certificates'][number];

function Certificates({ certificates }: { certificates: Certificate[] }) {
  const { t } = useLang();
  const now = Date.now();
  return (
    <DataTable label={t('证书', 'Certificates')}
      size="small"
      rowKey="fingerprint"
      pagination={false}
     
      dataSource={certificates}
      columns={[
        { title: t('主题', 'Subject'), dataIndex: 'subject' },
        { title: t('签发者', 'Issuer'), dataIndex: 'issuer' },
        { title: t('有效期', 'Valid'), dataIndex: 'notBefore', render: (f: string, c: Certificate) => `${beijingTime(f)} – ${beijingTime(c.notAfter)}` },
        {
          title: t('状态', 'State'),
          dataIndex: 'retiredAt',
          render: (r: string | null, c: Certificate) =>
            r ? <Tag>{t('已停用', 'retired')}</Tag> : new Date(c.notAfter).getTime() < now ? <Tag color="red">{t('已过期', 'expired')}</Tag> : <Tag color="green">{t('有效', 'in use')}</Tag>,
        },
        { title: t('SHA-256 指纹', 'SHA-256 fingerprint'), dataIndex: 'fingerprint', render: (f: string) => <span style={{ fontFamily: 'monospace', fontSize: 11 }}>{f}</span> },
      ]}
    />
  );
}

function Lookup({ initial }: { initial: string | undefined }) {
  const { t } = useLang();
  const [id, setId] = useState(initial);
  const found = useLoad(async () => {
    if (!id) return undefined;
    const prefix = id.slice(0, 4);
    if (prefix === 'tnd_') return { kind: 'tenderee' as const, record: unwrap(await api.GET('/v1/tenderees/{id}', { params: { path: { id } } })) };
    if (prefix === 'bdr_') return { kind: 'bidder' as const, record: unwrap(await api.GET('/v1/bidders/{id}', { params: { path: { id } } })) };
    if (prefix === 'iss_') return { kind: 'issuer' as const, record: unwrap(await api.GET('/v1/issuers/{id}', { params: { path: { id } } })) };
    if (prefix === 'bnk_') return { kind: 'bank' as const, record: unwrap(await api.GET('/v1/banks/{id}', { params: { path: { id } } })) };
    return { kind: 'unknown' as const };
  }, [id]);
  const f = found.data;
  return (
    <Card size="small">
      <Form layout="inline" onFinish={(v: { id: string }) => setId(v.id.trim())} initialValues={{ id: initial }} style={{ rowGap: 8 }}>
        <Form.Item name="id" label={t('编号（tnd_、bdr_、iss_、bnk_）', 'Id (tnd_, bdr_, iss_, bnk_)')} rules={[{ required: true }]}>
          <Input style={{ width: 320 }} />
        </Form.Item>
        <Button htmlType="submit">{t('查询', 'Look up')}</Button>
      </Form>
      <div style={{ marginTop: 12 }}>
        <ErrorAlert error={found.error} />
        {f?.kind === 'unknown' ? <Typography.Text type="danger">{t('无法识别的编号', 'Not an id of the registry')}</Typography.Text> : null}
        {f?.kind === 'tenderee' ? (
          <Facts
            label={t('招标人', 'Tenderee')}
            items={[
              { key: 'name', label: t('名称', 'Name'), children: f.record.name },
              { key: 'uscc', label: t('统一社会信用代码', 'USCC'), children: f.record.uscc },
              { key: 'created', label: t('登记时间', 'Registered'), children: beijingTime(f.record.createdAt) },
            ]}
          />
        ) : null}
        {f?.kind === 'bidder' ? (
          <Facts
            label={t('投标人', 'Bidder')}
            items={[
              { key: 'name', label: t('名称', 'Name'), children: f.record.name },
              { key: 'uscc', label: t('统一社会信用代码', 'USCC'), children: f.record.uscc },
              { key: 'account', label: t('基本存款账户', 'Basic account'), children: `${f.record.basicAccount.name} · ${f.record.basicAccount.number} · ${f.record.basicAccount.bankCode}` },
              { key: 'created', label: t('登记时间', 'Registered'), children: beijingTime(f.record.createdAt) },
            ]}
          />
        ) : null}
        {f?.kind === 'issuer' ? <IssuerFacts issuer={f.record} /> : null}
        {f?.kind === 'bank' ? <BankFacts bank={f.record} /> : null}
      </div>
    </Card>
  );
}

function IssuerFacts({ issuer }: { issuer: Issuer }) {
  const { t } = useLang();
  return (
    <>
      <Facts
        label={issuer.name}
        items={[
          { key: 'kind', label: t('类型', 'Kind'), children: issuer.kind },
          { key: 'bankCode', label: t('联行号', 'Bank code'), children: issuer.bankCode ?? '—' },
          { key: 'callback', label: t('回调地址', 'Callback URL'), children: issuer.callbackUrl ?? '—' },
          { key: 'id', label: t('编号', 'Id'), children: issuer.id },
        ]}
      />
      <Certificates certificates={issuer.certificates} />
    </>
  );
}

function BankFacts({ bank }: { bank: Bank }) {
  const { t } = useLang();
  return (
    <>
      <Facts
        label={bank.name}
        items={[
          { key: 'bankCode', label: t('联行号', 'Bank code'), children: bank.bankCode },
          { key: 'adapter', label: t('接口', 'Adapter'), children: bank.adapter },
          { key: 'endpoint', label: t('地址', 'Endpoint'), children: bank.endpoint },
          { key: 'trust', label: t('保证金专户', 'Trust account'), children: `${bank.trustAccount.name} · ${bank.trustAccount.number}` },
          { key: 'prefix', label: t('虚拟子账号前缀', 'Sub-account prefix'), children: bank.virtualAccountPrefix },
          { key: 'id', label: t('编号', 'Id'), children: bank.id },
        ]}
      />
      <Certificates certificates={bank.certificates} />
    </>
  );
}

export function Registry() {
  const { t } = useLang();
  const [params] = useSearchParams();
  const id = params.get('id') ?? undefined;
  return (
    <>
      <PageTitle>{t('登记信息', 'Registry')}</PageTitle>
      <Tabs
        defaultActiveKey={id ? 'lookup' : 'issuers'}
        items={[
          {
            key: 'issuers',
            label: t('保函出具机构', 'Issuers'),
            children: (
              <CursorTable<Issuer>
                label={t('出具机构列表', 'Issuers')}
                rowKey="id"
                load={async (cursor, limit) => unwrap(await api.GET('/v1/issuers', { params: { query: { cursor, limit } } }))}
                expandable={{ expandedRowRender: (i) => <Certificates certificates={i.certificates} /> }}
                columns={[
                  { title: t('名称', 'Name'), dataIndex: 'name' },
                  { title: t('类型', 'Kind'), dataIndex: 'kind' },
                  { title: t('联行号', 'Bank code'), dataIndex: 'bankCode', render: (c: string | null) => c ?? '—' },
                  { title: t('有效证书', 'Certificates in use'), dataIndex: 'certificates', render: (cs: Certificate[]) => cs.filter((c) => !c.retiredAt).length },
                  { title: t('编号', 'Id'), dataIndex: 'id', render: (x: string) => <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{x}</span> },
                ]}
              />
            ),
          },
          {
            key: 'banks',
            label: t('存款银行', 'Deposit banks'),
            children: (
              <CursorTable<Bank>
                label={t('存款银行列表', 'Deposit banks')}
                rowKey="id"
                load={async (cursor, limit) => unwrap(await api.GET('/v1/banks', { params: { query: { cursor, limit } } }))}
                expandable={{ expandedRowRender: (b) => <Certificates certificates={b.certificates} /> }}
                columns={[
                  { title: t('名称', 'Name'), dataIndex: 'name' },
                  { title: t('联行号', 'Bank code'), dataIndex: 'bankCode' },
                  { title: t('接口', 'Adapter'), dataIndex: 'adapter' },
                  { title: t('保证金专户', 'Trust account'), dataIndex: ['trustAccount', 'number'] },
                  { title: t('有效证书', 'Certificates in use'), dataIndex: 'certificates', render: (cs: Certificate[]) => cs.filter((c) => !c.retiredAt).length },
                  { title: t('编号', 'Id'), dataIndex: 'id', render: (x: string) => <span style={{ fontFamily: 'monospace', fontSize: 12 }}>{x}</span> },
                ]}
              />
            ),
          },
          { key: 'lookup', label: t('按编号查询', 'Look up by id'), children: <Lookup key={id} initial={id} /> },
        ]}
      />
    </>
  );
}
