// What a voucher's QR code opens: /verify/<id>?voucher=<id>&sha256=<the record's SHA-256>. The
// record's public summary, whether the QR code agrees with the record, and a file compared
// against this voucher.
import { Alert, Spin, Typography } from 'antd';
import { useRef, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { useLoad } from '../../components';
import { useLang } from '../../i18n';
import { checkPdfAgainstVoucher, getPublicVoucher, isNotFound, type PublicVoucher, type VoucherPageCheck } from './api';
import { Busy, PdfDrop } from './PdfDrop';
import { PublicError } from './PublicError';
import { PublicFrame } from './PublicFrame';
import { VoucherPageVerdict } from './VoucherVerdict';
import { VoucherSummary } from './VoucherSummary';

const sha256Pattern = /^[0-9a-fA-F]{64}$/;

/** What the QR code's parameters say against the record; nothing when the page was opened
 *  without them (a typed address). */
function QrAgreement({ voucher }: { voucher: PublicVoucher }) {
  const { t } = useLang();
  const [search] = useSearchParams();
  const qrVoucher = search.get('voucher');
  const qrSha = search.get('sha256');
  if (qrVoucher === null && qrSha === null) return null;
  const idAgrees = qrVoucher === null || qrVoucher === voucher.id;
  const shaAgrees = qrSha !== null && sha256Pattern.test(qrSha) && qrSha.toLowerCase() === voucher.recordSha256.toLowerCase();
  if (idAgrees && shaAgrees) {
    return (
      <Alert
        type="success"
        showIcon
        data-testid="qr-agreement"
        data-agrees="true"
        title={t('二维码与存档记录一致', 'The QR code matches the record on file')}
        description={t('请核对纸面上的凭证编号、项目和标段与下方摘要一致。', 'Check that the voucher number, project and section printed on the paper are the ones below.')}
      />
    );
  }
  return (
    <Alert
      type="error"
      role="alert"
      showIcon
      data-testid="qr-agreement"
      data-agrees="false"
      title={t('二维码与存档记录不一致', 'The QR code does not match the record on file')}
      description={t(
        '二维码中的凭证编号或记录指纹与本中心存档不同：这份纸质件可能被改动过，或不是本中心出具的。',
        "The voucher number or record fingerprint in the QR code differs from ours: the paper may have been altered, or may not be ours.",
      )}
    />
  );
}

function NoSuchVoucher() {
  const { t } = useLang();
  return (
    <PublicFrame title={t('未找到该凭证', 'No such voucher')} current="voucher">
      <Typography.Paragraph data-testid="no-such-voucher" style={{ margin: 0, fontSize: 16 }}>
        {t(
          '本中心没有这个编号的凭证。请核对链接或重新扫描凭证上的二维码；也可以上传凭证的 PDF 文件核验。',
          'We have no voucher with this number. Check the link or scan the QR code on the voucher again, or check the voucher\'s PDF file.',
        )}
      </Typography.Paragraph>
    </PublicFrame>
  );
}

/** A page per voucher: following a link to another voucher starts afresh. */
export function VoucherPage() {
  const { voucherId = '' } = useParams();
  return <OneVoucher key={voucherId} voucherId={voucherId} />;
}

function OneVoucher({ voucherId }: { voucherId: string }) {
  const { t } = useLang();
  const summary = useLoad(() => getPublicVoucher(voucherId), [voucherId]);
  const [chosen, setChosen] = useState<File>();
  const [check, setCheck] = useState<VoucherPageCheck>();
  const [checkError, setCheckError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  if (summary.error && isNotFound(summary.error)) return <NoSuchVoucher />;

  const onFile = async (file: File) => {
    const mine = ++seq.current;
    setChosen(file);
    setCheck(undefined);
    setCheckError(undefined);
    setBusy(true);
    try {
      const result = await checkPdfAgainstVoucher(voucherId, file);
      if (mine === seq.current) setCheck(result);
    } catch (e) {
      if (mine === seq.current) setCheckError(e);
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  };

  const v = summary.data;
  return (
    <PublicFrame title={t('凭证核验', 'Check this voucher')} current="voucher">
      {summary.loading && !v && <Spin style={{ display: 'block', margin: '24px auto' }} />}
      <PublicError error={summary.error} />
      {v && (
        <>
          <QrAgreement voucher={v} />
          {v.status !== 'signed' && (
            <Alert
              type="info"
              showIcon
              title={v.status === 'failed' ? t('该凭证未能生成，中心正在处理。', 'This voucher could not be produced; the centre is dealing with it.') : t('该凭证正在签章，请稍后刷新。', 'This voucher is being signed; refresh in a moment.')}
            />
          )}
          <VoucherSummary voucher={v} />
          <section aria-labelledby="compare-file">
            <Typography.Title level={2} id="compare-file" style={{ fontSize: 18, margin: '8px 0' }}>
              {t('用文件核对此凭证', 'Compare a file with this voucher')}
            </Typography.Title>
            <Typography.Paragraph type="secondary">
              {t(
                '选择您收到的 PDF 文件，确认它就是此凭证且未被改动。扫描件或重新保存的文件与原文件不同，无法通过文件核对，请改为核对上方摘要。',
                'Choose the PDF you were given to confirm it is this voucher, unchanged. A scan or a re-saved file differs from the original and cannot match; compare it with the summary above instead.',
              )}
            </Typography.Paragraph>
            <PdfDrop
              onFile={(f) => void onFile(f)}
              busy={busy}
              chosen={chosen}
              label={t('点击选择或拖入 PDF 文件', 'Choose the PDF, or drop it here')}
              hint={t('文件仅用于本次核验，不会被保存。', 'The file is used for this check only and is not kept.')}
              testId="voucher-page-drop"
            />
          </section>
          {busy && <Busy text={t('正在核验…', 'Checking…')} />}
          <PublicError error={checkError} />
          {check && <VoucherPageVerdict check={check} pageVoucherId={v.id} />}
        </>
      )}
    </PublicFrame>
  );
}
