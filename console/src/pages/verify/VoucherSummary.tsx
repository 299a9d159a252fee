// What anyone may know of a voucher, exactly as GET /v1/public/vouchers/:id gives it: the API has
// already left out what R18 protects before the opening, and nothing is added here.
import { Descriptions, Grid, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Money } from '../../components';
import { beijingTime } from '../../format';
import { useLang } from '../../i18n';
import type { PublicVoucher } from './api';
import { PublicStatus } from './PublicStatus';

export function Fingerprint({ value }: { value: string | null | undefined }) {
  if (!value) return <>—</>;
  return (
    <Typography.Text code style={{ overflowWrap: 'anywhere', wordBreak: 'break-all', fontSize: 12 }}>
      {value}
    </Typography.Text>
  );
}

export function VoucherSummary({ voucher, title }: { voucher: PublicVoucher; title?: string }) {
  const { t, lang } = useLang();
  const screens = Grid.useBreakpoint();
  const items: { key: string; label: string; children: ReactNode }[] = [
    { key: 'kind', label: t('凭证类型', 'Kind'), children: <span data-testid="voucher-kind">{voucher.kindLabel[lang]}</span> },
    { key: 'id', label: t('凭证编号', 'Voucher number'), children: <Typography.Text style={{ overflowWrap: 'anywhere' }}>{voucher.id}</Typography.Text> },
    { key: 'status', label: t('状态', 'Status'), children: <PublicStatus status={voucher.status} /> },
    { key: 'centre', label: t('出具机构', 'Issued by'), children: voucher.centre.name },
    { key: 'issuedAt', label: t('出具时间（北京时间）', 'Issued at (Beijing time)'), children: beijingTime(voucher.issuedAt) },
    { key: 'signedAt', label: t('签章时间（北京时间）', 'Signed at (Beijing time)'), children: beijingTime(voucher.signedAt) },
  ];
  if (voucher.section) {
    const s = voucher.section;
    items.push({
      key: 'section',
      label: t('项目 / 标段', 'Project / section'),
      children: (
        <span>
          {s.projectCode} / {s.sectionCode}
          <br />
          {s.name}
          <br />
          <Typography.Text type="secondary">{s.opened ? t('已开标', 'Opened') : t('尚未开标：开标前不公开投标人信息（R18）', 'Not opened yet: bidders are not shown before the opening (R18)')}</Typography.Text>
        </span>
      ),
    });
  }
  for (const f of voucher.facts) {
    items.push({ key: `fact-${f.key}`, label: f.label[lang], children: f.key === 'amount' ? <Money amount={f.value} /> : f.value });
  }
  items.push(
    { key: 'pdfSha256', label: t('PDF 文件 SHA-256', "The PDF's SHA-256"), children: <Fingerprint value={voucher.pdfSha256} /> },
    { key: 'recordSha256', label: t('存档记录 SHA-256', "The record's SHA-256"), children: <Fingerprint value={voucher.recordSha256} /> },
  );
  return (
    <Descriptions
      data-testid="voucher-summary"
      title={title}
      bordered
      size="small"
      column={1}
      layout={screens.sm ? 'horizontal' : 'vertical'}
      items={items}
      styles={{ label: { width: screens.sm ? 200 : undefined } }}
    />
  );
}
