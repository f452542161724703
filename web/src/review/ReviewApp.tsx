import { useCallback, useMemo } from "react";
import { ApiClient, type ApiError } from "../shared/api";
import { TokenGate } from "../shared/TokenGate";
import { useStaffToken } from "../shared/useStaffToken";
import { InterviewList } from "./InterviewList";
import { ReportView } from "./ReportView";

interface Props {
  interviewId: string | null;
}

/** Recruiter review: finished interviews and their reports. */
export function ReviewApp({ interviewId }: Props) {
  const staff = useStaffToken();
  const { token, refuse } = staff;
  const api = useMemo(() => (token ? new ApiClient(token) : null), [token]);
  const onUnauthorized = useCallback(
    (error: ApiError) =>
      refuse(
        error.code === "expired_token"
          ? "Your access token has expired. Paste a new one."
          : error.status === 403
            ? `This access token may not open the review (${error.message}). Use a recruiter, interviewer or admin token.`
            : `The server refused the access token: ${error.message}`,
      ),
    [refuse],
  );
  if (!api) return <TokenGate appName="Recruiter review" reason={staff.reason} onToken={staff.setToken} />;
  return interviewId ? (
    <ReportView key={interviewId} api={api} interviewId={interviewId} onUnauthorized={onUnauthorized} />
  ) : (
    <InterviewList api={api} onUnauthorized={onUnauthorized} />
  );
}
