package dev.mailintake.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mailintake.intake.MessageRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.angus.mail.iap.ByteArray;
import org.junit.jupiter.api.Test;

class BatchedFetchesTest {
    private static final long MAX = 1_000_000;

    private static MessageRef ref(long uid, long size) {
        return new MessageRef("box", "7/" + uid, "<" + uid + "@x>", Instant.EPOCH, List.of(), size,
                MessageRef.Attachments.UNKNOWN);
    }

    private static BatchedFetches listed(int batchSize, long budget, MessageRef... refs) {
        BatchedFetches f = new BatchedFetches(batchSize, budget);
        for (MessageRef r : refs) {
            f.listed(r);
        }
        return f;
    }

    @Test
    void theFirstToComeTakesTheFollowingMessagesUpToTheCountAndTheOthersWaitForItsAnswer() {
        BatchedFetches f = listed(3, 10_000, ref(1, 100), ref(2, 100), ref(3, 100), ref(4, 100));
        BatchedFetches.Claim first = f.claim(ref(2, 100), MAX);
        assertThat(first.batch().uids()).containsExactly(2, 3, 4);

        BatchedFetches.Claim third = f.claim(ref(3, 100), MAX);
        assertThat(third.batch()).isNull();
        assertThat(third.waiting()).isSameAs(first.batch().result());
        first.batch().result().complete(Map.of(3L, new ByteArray(new byte[] {1}, 0, 1)));
        assertThat(third.waiting().join().get(3L).getCount()).isEqualTo(1);

        // message 1 came late: everything after it is taken, so it is fetched alone
        assertThat(f.claim(ref(1, 100), MAX)).isEqualTo(BatchedFetches.Claim.ALONE);
    }

    @Test
    void theBatchStopsAtTheByteBudgetAndAtAMessageOfUnknownOrTooLargeSize() {
        BatchedFetches f = listed(50, 1_000, ref(1, 400), ref(2, 400), ref(3, 400));
        assertThat(f.claim(ref(1, 400), MAX).batch().uids()).containsExactly(1, 2);

        f = listed(50, 1_000, ref(1, 100), ref(2, MessageRef.UNKNOWN_SIZE), ref(3, 100));
        assertThat(f.claim(ref(1, 100), MAX)).isEqualTo(BatchedFetches.Claim.ALONE);

        f = listed(50, 1_000, ref(1, 100), ref(2, 300), ref(3, 100));
        assertThat(f.claim(ref(1, 100), 200)).as("over rules.max-size: not fetched along")
                .isEqualTo(BatchedFetches.Claim.ALONE);

        f = listed(50, 1_000, ref(1, 5_000), ref(2, 100));
        assertThat(f.claim(ref(1, 5_000), MAX)).as("larger than the budget: streamed alone")
                .isEqualTo(BatchedFetches.Claim.ALONE);
    }

    @Test
    void aMessageMovedWithoutItsBytesAndANewPollDropWhatWaits() {
        BatchedFetches f = listed(50, 10_000, ref(1, 100), ref(2, 100), ref(3, 100));
        assertThat(f.claim(ref(1, 100), MAX).batch().uids()).containsExactly(1, 2, 3);
        f.forget(ref(2, 100)); // the ledger knew it: only moved
        assertThat(f.claim(ref(2, 100), MAX)).isEqualTo(BatchedFetches.Claim.ALONE);

        f.reset();
        f.listed(ref(3, 100));
        assertThat(f.claim(ref(3, 100), MAX)).as("a new poll lists afresh").isEqualTo(BatchedFetches.Claim.ALONE);
    }

    @Test
    void batchSizeOneFetchesEveryMessageAlone() {
        BatchedFetches f = listed(1, 10_000, ref(1, 100), ref(2, 100));
        assertThat(f.claim(ref(1, 100), MAX)).isEqualTo(BatchedFetches.Claim.ALONE);
        assertThat(f.claim(ref(2, 100), MAX)).isEqualTo(BatchedFetches.Claim.ALONE);
    }
}
