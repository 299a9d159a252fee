// Choosing or dropping one PDF. Nothing is sent until a file is chosen; the page decides what to
// do with it (send it to be checked, or fingerprint it on the device).
import { FilePdfOutlined, InboxOutlined } from '@ant-design/icons';
import { Space, Spin, Typography, Upload } from 'antd';
import { useLang } from '../../i18n';

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function PdfDrop({
  onFile,
  busy,
  chosen,
  label,
  hint,
  accept = '.pdf,application/pdf',
  testId,
}: {
  onFile: (file: File) => void;
  busy: boolean;
  chosen?: File;
  label: string;
  hint: string;
  accept?: string;
  testId?: string;
}) {
  const { t } = useLang();
  return (
    <div>
      <Upload.Dragger
        accept={accept}
        multiple={false}
        maxCount={1}
        showUploadList={false}
        disabled={busy}
        data-testid={testId}
        beforeUpload={(file) => {
          onFile(file);
          // The file is handed to the page, never to antd's own uploader.
          return Upload.LIST_IGNORE;
        }}
      >
        <p className="ant-upload-drag-icon" aria-hidden>
          <InboxOutlined />
        </p>
        <p className="ant-upload-text">{label}</p>
        <p className="ant-upload-hint" style={{ color: '#595959' }}>
          {hint}
        </p>
      </Upload.Dragger>
      {chosen && (
        <Typography.Paragraph style={{ margin: '8px 0 0', overflowWrap: 'anywhere' }} data-testid="chosen-file">
          <FilePdfOutlined aria-hidden /> {t('已选择', 'Chosen')}: {chosen.name} ({fileSize(chosen.size)})
        </Typography.Paragraph>
      )}
    </div>
  );
}

/** Work under way, said in words as well as with the spinner. */
export function Busy({ text }: { text: string }) {
  return (
    <Space role="status" aria-live="polite">
      <Spin size="small" />
      <span>{text}</span>
    </Space>
  );
}
