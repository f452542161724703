import { useCallback, useState } from "react";
import { CANDIDATE_TOKEN_KEY, takeToken } from "../shared/auth";
import { PRE_CONSENT_STATES } from "../shared/types";
import { DeviceCheck } from "./DeviceCheck";
import { Ending } from "./Ending";
import { InterviewScreen } from "./InterviewScreen";
import { linkErrorText } from "./linkErrors";
import { MessageScreen } from "./MessageScreen";
import { isFinished } from "./session";
import { useCandidateSocket } from "./useCandidateSocket";
import { Welcome } from "./Welcome";

type Step = "welcome" | "device" | "interview";

/** The candidate's interview: welcome and consent, device check, questions, the end. */
export function CandidateApp() {
  const [token] = useState(() => takeToken(CANDIDATE_TOKEN_KEY));
  const live = useCandidateSocket(token);
  const [step, setStep] = useState<Step>("welcome");
  const { session, connection, error, consent } = live;

  const onConsent = useCallback(async (): Promise<string | null> => {
    const ack = await consent();
    if (!ack.ok) return `The interview could not start: ${ack.error.message}`;
    setStep("device");
    return null;
  }, [consent]);

  if (!token) {
    const text = linkErrorText({ code: "missing_token", message: "" });
    return (
      <MessageScreen title={text.title} testId="link-error">
        <p>{text.body}</p>
      </MessageScreen>
    );
  }
  if (connection === "superseded") {
    return (
      <MessageScreen title="Interview opened elsewhere" testId="superseded">
        <p className="lead">This interview was opened in another tab or window; continue there.</p>
        <p>Only one window can hold the interview at a time. Your answers so far are saved.</p>
      </MessageScreen>
    );
  }
  if (session && isFinished(session)) return <Ending session={session} />;
  if (connection === "refused") {
    const text = linkErrorText(error);
    return (
      <MessageScreen title={text.title} testId="link-error">
        <p>{text.body}</p>
      </MessageScreen>
    );
  }

  const banner =
    connection === "reconnecting" ? (
      <div className="banner" role="status" data-testid="reconnecting">
        Connection lost, reconnecting… Your draft is kept.
      </div>
    ) : connection === "closed" ? (
      <div className="banner" role="alert">
        The server closed the connection.{" "}
        <button type="button" onClick={live.retry}>
          Reconnect
        </button>
      </div>
    ) : error ? (
      <div className="banner" role="alert">
        {error.message}
      </div>
    ) : null;

  let screen;
  if (!session) {
    screen = (
      <MessageScreen title="Opening your interview…">
        <p role="status">Connecting to the interview server.</p>
      </MessageScreen>
    );
  } else if (PRE_CONSENT_STATES.includes(session.state) && step === "welcome") {
    screen = (
      <Welcome
        templateTitle={session.templateTitle}
        mode={session.mode}
        notice={session.notice}
        onConsent={onConsent}
      />
    );
  } else if (step === "device") {
    screen = <DeviceCheck onContinue={() => setStep("interview")} />;
  } else {
    screen = (
      <InterviewScreen
        session={session}
        connected={connection === "connected"}
        serverDraft={live.serverDraft}
        sendDraft={live.sendDraft}
        answer={live.answer}
        hint={live.hint}
      />
    );
  }
  return (
    <>
      {banner}
      {screen}
    </>
  );
}
