import type { ErrorInfo } from '../core/errors';

export function ErrorBanner({ error, testId }: { error: ErrorInfo | null; testId: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid={testId} data-code={error.code}>
      <strong>{error.code}</strong> {error.message}
    </div>
  );
}
