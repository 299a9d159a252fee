// 凭证验真: anyone with a voucher's PDF checks its signature and that it is the one on record.
import { Typography } from 'antd';
import { useRef, useState } from 'react';
import { useLang } from '../../i18n';
import { checkVoucherPdf, type VoucherCheck } from './api';
import { Busy, PdfDrop } from './PdfDrop';
import { PublicError } from './PublicError';
import { PublicFrame } from './PublicFrame';
import { VoucherVerdict } from './VoucherVerdict';

export function UploadPage() {
  const { t } = useLang();
  const [chosen, setChosen] = useState<File>();
  const [check, setCheck] = useState<VoucherCheck>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // A second file chosen while the first is being checked wins; the first answer is dropped.
  const seq = useRef(0);

  const onFile = async (file: File) => {
    const mine = ++seq.current;
    setChosen(file);
    setCheck(undefined);
    setError(undefined);
    setBusy(true);
    try {
      const result = await checkVoucherPdf(file);
      if (mine === seq.current) setCheck(result);
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  };

  return (
    <PublicFrame title={t('凭证验真', 'Verify a voucher')} current="upload">
      <Typography.Paragraph style={{ margin: 0 }}>
        {t(
          '选择或拖入本中心出具的 PDF 凭证（收款、退款、验真报告、开标名单、对账报告等），核对其电子签名，并与存档凭证逐字节比对。无需登录。',
          'Choose or drop a PDF voucher issued by us (a receipt, refund voucher, verification report, opening roster, reconciliation report…): its electronic signature is checked and the file is compared byte for byte with the voucher on record. No sign-in needed.',
        )}
      </Typography.Paragraph>
      <PdfDrop
        onFile={(f) => void onFile(f)}
        busy={busy}
        chosen={chosen}
        label={t('点击选择或拖入 PDF 凭证', 'Choose a PDF voucher, or drop it here')}
        hint={t('文件仅用于本次核验，不会被保存。', 'The file is used for this check only and is not kept.')}
        testId="voucher-drop"
      />
      {busy && <Busy text={t('正在核验…', 'Checking…')} />}
      <PublicError error={error} />
      {check && <VoucherVerdict check={check} />}
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t(
          '纸质凭证：请扫描凭证右上角的二维码，核对页面显示的摘要与纸面内容是否一致。',
          "A paper voucher: scan the QR code at its top right and compare the summary shown with what is printed.",
        )}
      </Typography.Paragraph>
    </PublicFrame>
  );
}
