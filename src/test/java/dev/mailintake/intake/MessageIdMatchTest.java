package dev.mailintake.intake;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MessageIdMatchTest {
    @Test
    void comparesWithoutBracketsAndFolding() {
        assertThat(MessageIntake.sameMessageId("<a.b@example.com>", "a.b@example.com")).isTrue();
        assertThat(MessageIntake.sameMessageId("<a.b@example.com>", " <a.b\r\n @example.com> ")).isTrue();
        assertThat(MessageIntake.sameMessageId("<a.b@example.com>", "<a.c@example.com>")).isFalse();
        assertThat(MessageIntake.sameMessageId("<A@example.com>", "<a@example.com>")).as("local parts are case-sensitive")
                .isFalse();
    }
}
