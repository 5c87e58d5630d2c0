package dev.mailintake.imap;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UidCommandsTest {
    @Test
    void aUidSetWritesRunsAsRangesInAscendingOrderOnce() {
        assertThat(UidCommands.uidSet(new long[] {12, 5, 6, 7, 3, 9, 8, 5})).isEqualTo("3,5:9,12");
        assertThat(UidCommands.uidSet(new long[] {42})).isEqualTo("42");
        assertThat(UidCommands.uidSet(new long[] {1, 3, 5})).isEqualTo("1,3,5");
    }
}
