// 保函验真: anyone holding a guarantee document checks it by issuer, number and the document's
// SHA-256. The document is fingerprinted on the device (crypto.subtle) and never uploaded. The
// service answers "authentic" only when the fingerprint matches; a wrong document answers the
// same "not found" as an unknown number, so that a guessed number reveals nothing (R18).
import { Button, Descriptions, Form, Grid, Input, Typography } from 'antd';
import { useRef, useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap, type paths } from '../../api/client';
import { Money } from '../../components';
import { useLang } from '../../i18n';
import { Busy, PdfDrop } from './PdfDrop';
import { PublicError } from './PublicError';
import { PublicFrame } from './PublicFrame';
import { PublicStatus, YesNo } from './PublicStatus';
import { DocumentTooLarge, HashingUnavailable, hashedDocumentBytesMax, sha256Hex } from './sha256';
import { Verdict } from './Verdict';
import { Fingerprint } from './VoucherSummary';

type GuaranteeCheck = paths['/v1/public/guarantees/verify']['get']['responses'][200]['content']['application/json'];
type PublicGuarantee = NonNullable<GuaranteeCheck['guarantee']>;

/** The forms the service accepts (src/guarantees/schemas.ts publicVerifyQuery). */
const issuerPattern = /^(iss_[0-9a-hjkmnp-tv-z]{26}|\d{12})$/;
const numberPattern = /^[A-Za-z0-9._-]{1,64}$/;
const sha256Pattern = /^[0-9a-fA-F]{64}$/;

const issuerKindNames: Record<string, readonly [string, string]> = {
  bank: ['银行', 'Bank'],
  insurance: ['保险公司', 'Insurer'],
  guarantor: ['担保公司', 'Guarantee company'],
};

interface Query {
  issuer: string;
  number: string;
  sha256: string;
}

function GuaranteeFacts({ g }: { g: PublicGuarantee }) {
  const { t } = useLang();
  const screens = Grid.useBreakpoint();
  const kind = issuerKindNames[g.issuer.kind];
  const items: { key: string; label: string; children: ReactNode }[] = [
    { key: 'number', label: t('保函编号', 'Guarantee number'), children: <span style={{ overflowWrap: 'anywhere' }}>{g.number}</span> },
    { key: 'issuer', label: t('出具机构', 'Issuer'), children: `${g.issuer.name}${kind ? `（${t(kind[0], kind[1])}）` : ''}` },
    {
      key: 'status',
      label: t('状态', 'Status'),
      children: (
        <span>
          <PublicStatus status={g.status} />
          {' · '}
          <YesNo yes={g.inForce} yesText={t('在有效期内', 'In force')} noText={t('不在有效状态', 'Not in force')} testId="in-force" />
        </span>
      ),
    },
    { key: 'amount', label: t('担保金额', 'Amount'), children: <Money amount={g.amount} /> },
    { key: 'validity', label: t('有效期', 'Valid'), children: `${g.validFrom} — ${g.validTo}` },
    {
      key: 'section',
      label: t('项目 / 标段', 'Project / section'),
      children: (
        <span>
          {g.section.projectCode} / {g.section.sectionCode}
          <br />
          {g.section.name}
        </span>
      ),
    },
    {
      key: 'applicant',
      label: t('投标人（申请人）', 'Bidder (applicant)'),
      children: g.applicant ? g.applicant.name : <Typography.Text type="secondary">{t('开标前不公开（R18）', 'Not shown before the opening (R18)')}</Typography.Text>,
    },
  ];
  return <Descriptions data-testid="guarantee-facts" bordered size="small" column={1} layout={screens.sm ? 'horizontal' : 'vertical'} items={items} styles={{ label: { width: screens.sm ? 180 : undefined } }} />;
}

function GuaranteeVerdict({ check }: { check: GuaranteeCheck }) {
  if (check.verdict === 'authentic' && check.guarantee) {
    return (
      <Verdict look="good" headline={{ zh: '保函真实', en: 'Authentic guarantee' }} message={check.message} testId="guarantee-verdict">
        <div style={{ marginTop: 12 }}>
          <GuaranteeFacts g={check.guarantee} />
        </div>
      </Verdict>
    );
  }
  return <Verdict look="unknown" headline={{ zh: '未找到一致的保函', en: 'No matching guarantee' }} message={check.message} testId="guarantee-verdict" />;
}

export function GuaranteePage() {
  const { t } = useLang();
  const [search] = useSearchParams();
  const [form] = Form.useForm<Query>();
  const [docFile, setDocFile] = useState<File>();
  const [hashing, setHashing] = useState(false);
  const [hashProblem, setHashProblem] = useState<'unavailable' | 'too_large' | 'unreadable'>();
  const [busy, setBusy] = useState(false);
  const [check, setCheck] = useState<GuaranteeCheck & { sha256: string }>();
  const [error, setError] = useState<unknown>();
  const seq = useRef(0);

  const onDocument = async (file: File) => {
    const mine = ++seq.current;
    setDocFile(file);
    setHashProblem(undefined);
    setCheck(undefined);
    setHashing(true);
    try {
      const hex = await sha256Hex(file);
      if (mine !== seq.current) return;
      form.setFieldValue('sha256', hex);
      await form.validateFields(['sha256']).catch(() => undefined);
    } catch (e) {
      if (mine !== seq.current) return;
      form.setFieldValue('sha256', '');
      setHashProblem(e instanceof HashingUnavailable ? 'unavailable' : e instanceof DocumentTooLarge ? 'too_large' : 'unreadable');
    } finally {
      if (mine === seq.current) setHashing(false);
    }
  };

  const submit = async (q: Query) => {
    const mine = ++seq.current;
    setBusy(true);
    setCheck(undefined);
    setError(undefined);
    try {
      const query = { issuer: q.issuer.trim(), number: q.number.trim(), sha256: q.sha256.trim().toLowerCase() };
      const result = unwrap(await api.GET('/v1/public/guarantees/verify', { params: { query } }));
      if (mine === seq.current) setCheck({ ...result, sha256: query.sha256 });
    } catch (e) {
      if (mine === seq.current) setError(e);
    } finally {
      if (mine === seq.current) setBusy(false);
    }
  };

  return (
    <PublicFrame title={t('保函验真', 'Verify a guarantee')} current="guarantee">
      <Typography.Paragraph style={{ margin: 0 }}>
        {t(
          '输入出具机构和保函编号，并选择保函文件（或输入其 SHA-256 指纹），核对该保函是否由出具机构向本中心报送。无需登录。',
          'Enter the issuer and the guarantee number, and choose the guarantee document (or enter its SHA-256): we check that the issuer sent us this guarantee. No sign-in needed.',
        )}
      </Typography.Paragraph>
      <Form<Query>
        form={form}
        layout="vertical"
        requiredMark={false}
        onFinish={(v) => void submit(v)}
        // An answer is about the values asked with; once they change it no longer applies.
        onValuesChange={() => setCheck(undefined)}
        initialValues={{ issuer: search.get('issuer') ?? '', number: search.get('number') ?? '', sha256: search.get('sha256') ?? '' }}
      >
        <Form.Item
          label={t('出具机构（机构编号 iss_… 或 12 位银行行号）', 'Issuer (its id iss_… or 12-digit bank code)')}
          name="issuer"
          normalize={(v: string) => v.trim()}
          rules={[
            { required: true, message: t('请输入出具机构', 'Enter the issuer') },
            { pattern: issuerPattern, message: t('应为 iss_ 开头的机构编号或 12 位银行行号', 'An id starting iss_ or a 12-digit bank code') },
          ]}
        >
          <Input autoComplete="off" spellCheck={false} />
        </Form.Item>
        <Form.Item
          label={t('保函编号', 'Guarantee number')}
          name="number"
          normalize={(v: string) => v.trim()}
          rules={[
            { required: true, message: t('请输入保函编号', 'Enter the guarantee number') },
            { pattern: numberPattern, message: t('保函编号由字母、数字及 . _ - 组成，最长 64 位', 'Letters, digits and . _ -, at most 64') },
          ]}
        >
          <Input autoComplete="off" spellCheck={false} />
        </Form.Item>
        <Form.Item label={t('保函文件（只在本机计算指纹，不会上传）', 'Guarantee document (fingerprinted on this device, never uploaded)')}>
          <PdfDrop
            onFile={(f) => void onDocument(f)}
            busy={hashing || busy}
            chosen={docFile}
            accept=".pdf,.ofd,.xml,application/pdf"
            label={t('点击选择或拖入保函文件', 'Choose the guarantee document, or drop it here')}
            hint={t('文件不会离开本机：只计算其 SHA-256 指纹。', 'The file stays on this device: only its SHA-256 is computed.')}
            testId="guarantee-drop"
          />
          {hashing && <Busy text={t('正在计算指纹…', 'Fingerprinting…')} />}
          {hashProblem && (
            <Typography.Text type="danger" role="alert">
              {hashProblem === 'unavailable'
                ? t('此页面无法在本机计算指纹（需要 https 连接），请手动输入文件的 SHA-256。', 'This page cannot fingerprint files here (it needs an https connection); enter the SHA-256 yourself.')
                : hashProblem === 'too_large'
                  ? t(`文件超过 ${hashedDocumentBytesMax / 1024 / 1024} MB，无法在本机计算指纹。`, `The file is larger than ${hashedDocumentBytesMax / 1024 / 1024} MB and cannot be fingerprinted here.`)
                  : t('无法读取该文件。', 'The file could not be read.')}
            </Typography.Text>
          )}
        </Form.Item>
        <Form.Item
          label={t('文件 SHA-256 指纹', "The document's SHA-256")}
          name="sha256"
          normalize={(v: string) => v.trim()}
          extra={t('选择文件后自动填入；也可粘贴出具机构提供的指纹。', 'Filled in when you choose the document; or paste the fingerprint the issuer gave you.')}
          rules={[
            { required: true, message: t('请选择保函文件或输入其 SHA-256', 'Choose the document or enter its SHA-256') },
            { pattern: sha256Pattern, message: t('SHA-256 为 64 位十六进制数字', 'A SHA-256 is 64 hexadecimal digits') },
          ]}
        >
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 3 }} spellCheck={false} style={{ fontFamily: 'monospace' }} />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy} disabled={hashing}>
          {t('验证', 'Verify')}
        </Button>
      </Form>
      <PublicError error={error} />
      {check && <GuaranteeVerdict check={check} />}
      {check?.verdict === 'authentic' && check.guarantee && (
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t('已核对的文件指纹', 'Fingerprint checked')}: <Fingerprint value={check.sha256} />
        </Typography.Paragraph>
      )}
    </PublicFrame>
  );
}
