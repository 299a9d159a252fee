// A section's lifecycle moves (opening, postponement, award, contract, forfeiture, termination),
// each a decision form with its confirmation, and what the API answered.
import { Alert, Form, Input, Select, Space, Typography } from 'antd';
import { api, unwrap } from '../../api/client';
import { StatusTag } from '../../components';
import { useLang } from '../../i18n';
import { beijingInputToIso, DecisionForm, hrefOf, IdLink, type Roster, type Section } from './common';

export const forfeitReasonWords: Record<string, readonly [string, string]> = {
  withdrawal_after_deadline: ['截止后撤回投标', 'Withdrew after the deadline'],
  refused_to_sign: ['中标人拒签合同', 'The winner refused to sign'],
  conditions_at_signing: ['中标人签约时附加条件', 'The winner added conditions at signing'],
  no_performance_security: ['中标人未提交履约担保', 'The winner lodged no performance security'],
  false_documents: ['提供虚假材料', 'False documents'],
};


export function Lifecycle({ section, roster, onChanged }: { section: Section; roster: Roster | undefined; onChanged: (answer: unknown) => void }) {
  const { t } = useLang();
  const id = section.id;
  const status = section.status;
  const winners = (roster?.entries ?? []).filter((e) => e.status === 'secured');
  const done = onChanged;
  const deadlinePassed = new Date(section.bidDeadline).getTime() <= Date.now();
  return (
    <div>
      {status === 'open' ? (
        <>
          <DecisionForm<Record<string, never>>
            name="section-opening"
            title={t('开标（固定保证金名册）', 'Open the bids (fix the roster)')}
            submitText={t('开标', 'Open')}
            confirmTitle={t('确认开标', 'Confirm the opening')}
            confirmText={() =>
              deadlinePassed
                ? t('开标后名册即固定并出具凭证，不可撤销。', 'Once opened, the roster is fixed and put on record; this cannot be undone.')
                : t('投标截止时间未到，服务将拒绝开标。', 'The bid deadline has not passed; the service will refuse.')
            }
            onSubmit={async () => unwrap(await api.POST('/v1/sections/{id}/opening', { params: { path: { id } } }))}
            onDone={done}
          />
          <DecisionForm<{ bidDeadline: string; reason: string }>
            name="section-postponement"
            title={t('延期开标（R2）', 'Postpone the deadline (R2)')}
            submitText={t('延期', 'Postpone')}
            confirmTitle={t('确认延期', 'Confirm the postponement')}
            confirmText={(v) => t(`投标截止时间改为北京时间 ${v.bidDeadline.replace('T', ' ')}；不再覆盖 R2 的保函将请求出具方展期。`, `The bid deadline becomes ${v.bidDeadline.replace('T', ' ')} Beijing time; issuers of guarantees that no longer cover R2 are asked to extend them.`)}
            onSubmit={async (v) => unwrap(await api.POST('/v1/sections/{id}/postponement', { params: { path: { id } }, body: { bidDeadline: beijingInputToIso(v.bidDeadline), reason: v.reason } }))}
            onDone={done}
          >
            <Form.Item name="bidDeadline" label={t('新的投标截止时间（北京时间）', 'New bid deadline (Beijing time)')} rules={[{ required: true }]}>
              <Input type="datetime-local" />
            </Form.Item>
            <Form.Item name="reason" label={t('理由', 'Reason')} rules={[{ required: true, whitespace: true, max: 500 }]}>
              <Input.TextArea rows={2} maxLength={500} />
            </Form.Item>
          </DecisionForm>
        </>
      ) : null}
      {status === 'opened' ? (
        <DecisionForm<{ winnerBidderId: string; evaluationReportAt: string; noticeAt: string }>
          name="section-award"
          title={t('定标（中标通知，R14）', 'Award (notice, R14)')}
          submitText={t('记录中标', 'Record the award')}
          confirmTitle={t('确认中标人', 'Confirm the winner')}
          confirmText={(v) => {
            const w = winners.find((e) => e.bidderId === v.winnerBidderId);
            return t(`中标人：${w?.name ?? v.winnerBidderId}。政府采购项目将立即安排退还未中标人保证金（R11）。`, `Winner: ${w?.name ?? v.winnerBidderId}. Under government procurement, non-winners are refunded now (R11).`);
          }}
          onSubmit={async (v) =>
            unwrap(
              await api.POST('/v1/sections/{id}/award', {
                params: { path: { id } },
                body: { winnerBidderId: v.winnerBidderId, evaluationReportAt: beijingInputToIso(v.evaluationReportAt), noticeAt: beijingInputToIso(v.noticeAt) },
              }),
            )
          }
          onDone={done}
        >
          <Form.Item name="winnerBidderId" label={t('中标人', 'Winner')} rules={[{ required: true }]}>
            <Select options={winners.map((e) => ({ value: e.bidderId, label: e.name }))} />
          </Form.Item>
          <Form.Item name="evaluationReportAt" label={t('评标报告时间（北京时间）', 'Evaluation report at (Beijing time)')} rules={[{ required: true }]}>
            <Input type="datetime-local" />
          </Form.Item>
          <Form.Item name="noticeAt" label={t('中标通知时间（北京时间）', 'Notice at (Beijing time)')} rules={[{ required: true }]}>
            <Input type="datetime-local" />
          </Form.Item>
        </DecisionForm>
      ) : null}
      {status === 'awarded' ? (
        <DecisionForm<{ signedAt: string }>
          name="section-contract"
          title={t('签订合同（R11）', 'Contract signed (R11)')}
          submitText={t('记录合同', 'Record the contract')}
          confirmTitle={t('确认合同签订', 'Confirm the contract')}
          confirmText={(v) => t(`合同签订于北京时间 ${v.signedAt.replace('T', ' ')}：将安排退还全部保证金及利息，解除保函。`, `Signed at ${v.signedAt.replace('T', ' ')} Beijing time: every deposit is scheduled for refund with interest, guarantees are released.`)}
          onSubmit={async (v) => unwrap(await api.POST('/v1/sections/{id}/contract', { params: { path: { id } }, body: { signedAt: beijingInputToIso(v.signedAt) } }))}
          onDone={done}
        >
          <Form.Item name="signedAt" label={t('签订时间（北京时间）', 'Signed at (Beijing time)')} rules={[{ required: true }]}>
            <Input type="datetime-local" />
          </Form.Item>
        </DecisionForm>
      ) : null}
      {['opened', 'awarded'].includes(status) || (status === 'open' && deadlinePassed) ? (
        <DecisionForm<{ bidderId: string; reason: string }>
          name="section-forfeiture"
          title={t('不予退还保证金（R12）', 'Forfeit a deposit (R12)')}
          danger
          submitText={t('不予退还', 'Forfeit')}
          confirmTitle={t('确认不予退还', 'Confirm the forfeiture')}
          confirmText={(v) => t(`不予退还该投标人的保证金，理由：${forfeitReasonWords[v.reason]?.[0] ?? v.reason}。决定人与理由将记录在案。`, `The bidder's deposit is kept for: ${forfeitReasonWords[v.reason]?.[1] ?? v.reason}. You and the reason are recorded.`)}
          onSubmit={async (v) => unwrap(await api.POST('/v1/sections/{id}/forfeitures', { params: { path: { id } }, body: { bidderId: v.bidderId, reason: v.reason as 'false_documents' } }))}
          onDone={done}
        >
          <Form.Item name="bidderId" label={t('投标人', 'Bidder')} rules={[{ required: true }]}>
            <Select options={(roster?.entries ?? []).map((e) => ({ value: e.bidderId, label: e.name }))} />
          </Form.Item>
          <Form.Item name="reason" label={t('法定情形', 'Ground')} rules={[{ required: true }]}>
            <Select options={Object.entries(forfeitReasonWords).map(([k, w]) => ({ value: k, label: t(w[0], w[1]) }))} />
          </Form.Item>
        </DecisionForm>
      ) : null}
      {['contracted', 'closed', 'terminated'].includes(status) ? <Typography.Paragraph>{t('此状态下没有可执行的操作。', 'Nothing can be done in this state.')}</Typography.Paragraph> : null}
      {['open', 'opened', 'awarded'].includes(status) ? (
        <DecisionForm<{ reason: string }>
          name="section-termination"
          title={t('终止招标（R16）', 'Terminate the tender (R16)')}
          danger
          submitText={t('终止', 'Terminate')}
          confirmTitle={t('确认终止招标', 'Confirm the termination')}
          confirmText={() => t('终止后全部保证金立即连同利息退还，保函解除，不可撤销。', 'Every deposit is refunded at once with interest and guarantees released; this cannot be undone.')}
          onSubmit={async (v) => unwrap(await api.POST('/v1/sections/{id}/termination', { params: { path: { id } }, body: { reason: v.reason } }))}
          onDone={done}
        >
          <Form.Item name="reason" label={t('终止理由', 'Reason')} rules={[{ required: true, whitespace: true, max: 500 }]}>
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
        </DecisionForm>
      ) : null}
    </div>
  );
}

interface LifecycleAnswerBody {
  object?: string;
  status?: string;
  entries?: { status: string }[];
  refundIds?: string[];
  releasedGuaranteeIds?: string[];
  extensionRequestedGuaranteeIds?: string[];
}

/** What the API answered to a lifecycle move: the facts that matter, and the whole answer. */
export function LifecycleAnswer({ answer }: { answer: unknown }) {
  const { t } = useLang();
  const a = answer as LifecycleAnswerBody;
  const secured = a.entries?.filter((e) => e.status === 'secured').length;
  return (
    <Alert
      type="success"
      showIcon
      style={{ margin: '12px 0' }}
      title={t('接口返回', "The API's answer")}
      description={
        <div>
          {a.object === 'roster' ? <div>{t(`名册已固定：${a.entries?.length ?? 0} 名投标人，其中 ${secured} 名已担保。`, `Roster fixed: ${a.entries?.length ?? 0} bidders, ${secured} secured.`)}</div> : null}
          {a.status ? <div>{t('标段状态', 'Section status')}: <StatusTag status={a.status} /></div> : null}
          {a.refundIds?.length ? (
            <div>
              {t('已安排退款', 'Refunds scheduled')}:{' '}
              <Space wrap size={4}>
                {a.refundIds.map((r) => <IdLink key={r} id={r} to={hrefOf.refund(r)} />)}
              </Space>
            </div>
          ) : null}
          {a.releasedGuaranteeIds?.length ? <div>{t(`已解除保函 ${a.releasedGuaranteeIds.length} 份`, `${a.releasedGuaranteeIds.length} guarantees released`)}</div> : null}
          {a.extensionRequestedGuaranteeIds?.length ? <div>{t(`已请求展期 ${a.extensionRequestedGuaranteeIds.length} 份保函`, `Extensions requested for ${a.extensionRequestedGuaranteeIds.length} guarantees`)}</div> : null}
          <details style={{ marginTop: 6 }}>
            <summary>{t('完整返回', 'Whole answer')}</summary>
            <pre style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', margin: 0, fontSize: 12 }}>{JSON.stringify(answer, null, 2)}</pre>
          </details>
        </div>
      }
    />
  );
}
