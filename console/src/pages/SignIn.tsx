import { Alert, Button, Card, Form, Input, Segmented, Space, Typography } from 'antd';
import { useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { ApiFailure } from '../api/client';
import { useLang } from '../i18n';
import { useSession } from '../session';

export function SignIn() {
  const { user, signIn } = useSession();
  const { t, lang, setLang } = useLang();
  const navigate = useNavigate();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (user) return <Navigate to="/console/" replace />;

  const submit = async (v: { login: string; password: string }) => {
    setBusy(true);
    setError(undefined);
    try {
      await signIn(v.login, v.password);
      navigate('/console/', { replace: true });
    } catch (e) {
      const code = e instanceof ApiFailure ? e.code : 'network';
      setError(
        code === 'account_locked'
          ? t('登录失败次数过多，账户已暂时锁定，请稍后再试。', 'Too many failed sign-ins: the account is locked for a while. Try again later.')
          : code === 'invalid_credentials'
            ? t('用户名或密码错误。', 'Wrong login or password.')
            : code === 'rate_limited'
              ? t('请求过于频繁，请稍后再试。', 'Too many attempts from here; try again later.')
              : t('无法登录，请稍后再试。', 'Could not sign in; try again later.'),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f0f2f5', padding: 16 }}>
      <Card style={{ width: 380, maxWidth: '100%' }}>
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Space style={{ justifyContent: 'space-between', width: '100%' }}>
            <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
              bidbond {t('登录', 'Sign in')}
            </Typography.Title>
            <Segmented
              aria-label={t('语言', 'Language')}
              value={lang}
              onChange={(v) => setLang(v as 'zh' | 'en')}
              options={[
                { label: '中文', value: 'zh' },
                { label: 'EN', value: 'en' },
              ]}
            />
          </Space>
          {error && <Alert type="error" role="alert" title={error} showIcon />}
          <Form layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item label={t('用户名', 'Login')} name="login" rules={[{ required: true, message: t('请输入用户名', 'Enter your login') }]}>
              <Input autoComplete="username" autoFocus />
            </Form.Item>
            <Form.Item label={t('密码', 'Password')} name="password" rules={[{ required: true, message: t('请输入密码', 'Enter your password') }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('登录', 'Sign in')}
            </Button>
          </Form>
          <Typography.Link href="/verify">{t('凭证与保函验真（无需登录）', 'Verify a voucher or guarantee (no sign-in)')}</Typography.Link>
        </Space>
      </Card>
    </main>
  );
}
