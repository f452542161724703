import { TokenGate } from "../shared/TokenGate";
import { useStaffToken } from "../shared/useStaffToken";
import { LiveList } from "./LiveList";
import { useObserverConnection } from "./useObserverConnection";
import { WatchView } from "./WatchView";

interface Props {
  interviewId: string | null;
}

/** The interviewer console: live interviews and one interview watched live. */
export function ConsoleApp({ interviewId }: Props) {
  const staff = useStaffToken();
  if (!staff.token) {
    return <TokenGate appName="Interviewer console" reason={staff.reason} onToken={staff.setToken} />;
  }
  return <ConnectedConsole token={staff.token} onRefused={staff.refuse} interviewId={interviewId} />;
}

function ConnectedConsole({
  token,
  onRefused,
  interviewId,
}: {
  token: string;
  onRefused: (reason: string) => void;
  interviewId: string | null;
}) {
  const { socket, status } = useObserverConnection(token, onRefused);
  const connected = status === "connected";
  return (
    <>
      {status !== "connected" ? (
        <div className="banner" role="status" data-testid="reconnecting">
          {status === "connecting" ? "Connecting…" : "Connection lost, reconnecting…"}
        </div>
      ) : null}
      {socket === null ? null : interviewId ? (
        <WatchView key={interviewId} socket={socket} interviewId={interviewId} connected={connected} />
      ) : (
        <LiveList socket={socket} connected={connected} />
      )}
    </>
  );
}
