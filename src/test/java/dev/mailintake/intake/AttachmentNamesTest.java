package dev.mailintake.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AttachmentNamesTest {

    private final AttachmentNames names = new AttachmentNames(AttachmentNames.DEFAULT_MAX_BYTES);

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Test
    void keepsAnOrdinaryName() {
        assertThat(names.allocate("Invoice 2024-03.pdf", "application/pdf")).isEqualTo("Invoice 2024-03.pdf");
        assertThat(names.allocate("Rechnung für März.pdf", "application/pdf")).isEqualTo("Rechnung für März.pdf");
    }

    @Test
    void normalizesToNfc() {
        String decomposed = "Re\u0301sume\u0301.pdf";
        assertThat(names.allocate(decomposed, null)).isEqualTo("R\u00e9sum\u00e9.pdf");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "../../etc/passwd|passwd",
            "/absolute/path/report.pdf|report.pdf",
            "C:\\Windows\\system32\\evil.dll|evil.dll",
            "dir/sub\\mixed.txt|mixed.txt",
            "\\\\server\\share\\doc.pdf|doc.pdf"})
    void takesOnlyTheLastPathComponent(String original, String expected) {
        assertThat(names.allocate(original, null)).isEqualTo(expected);
    }

    @Test
    void dropsControlCharacters() {
        assertThat(names.allocate("a\u0000b\r\nc\u0007d\u007fe\u0085f\u009f.txt", null)).isEqualTo("abcdef.txt");
    }

    @Test
    void dropsBidiAndFormatControls() {
        assertThat(names.allocate("invoice\u202Efdp.exe", null)).isEqualTo("invoicefdp.exe");
        assertThat(names.allocate("\uFEFF\u200Ea\u200Fb\u202Ac\u202Bd\u202Ce\u202Df\u2066g\u2067h\u2068i\u2069.pdf",
                null)).isEqualTo("abcdefghi.pdf");
    }

    @Test
    void replacesCharactersForbiddenOnWindows() {
        assertThat(names.allocate("a<b>c:d\"e|f?g*h.txt", null)).isEqualTo("a_b_c_d_e_f_g_h.txt");
    }

    @Test
    void collapsesWhitespace() {
        assertThat(names.allocate("quarterly   report \u00a0\u2003 final.pdf", null))
                .isEqualTo("quarterly report final.pdf");
        // a tab is a control character and is dropped before whitespace is collapsed
        assertThat(names.allocate("a \t b.pdf", null)).isEqualTo("a b.pdf");
    }

    @Test
    void stripsLeadingAndTrailingSpacesAndDots() {
        assertThat(names.allocate("  ..hidden.pdf. . ", null)).isEqualTo("hidden.pdf");
        assertThat(names.allocate("...", "text/plain")).isEqualTo("attachment.txt");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
            "NULL|application/pdf|attachment.pdf",
            "''|image/tiff|attachment.tif",
            ".|image/jpeg|attachment.jpg",
            "..|image/png|attachment.png",
            "/|image/gif|attachment.gif",
            "dir/|text/plain; charset=utf-8|attachment.txt",
            "\u202E|text/html|attachment.html",
            "NULL|application/xml|attachment.xml",
            "NULL|text/xml|attachment.xml",
            "NULL|application/zip|attachment.zip",
            "NULL|message/rfc822|attachment.eml",
            "NULL|Application/PDF|attachment.pdf",
            "NULL|application/x-unknown|attachment.bin",
            "NULL|NULL|attachment.bin"})
    void usesAFallbackNameWithAnExtensionFromTheContentType(String original, String type, String expected) {
        assertThat(names.allocate(original, type)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"CON", "con", "PRN", "aux", "NUL", "COM0", "com9", "LPT1", "lpt9", "CON.txt",
            "con.tar.gz", "Nul.pdf", "AUX .txt", "COM1 ", "CLOCK$"})
    void prefixesWindowsDeviceNames(String device) {
        String result = names.allocate(device, null);
        assertThat(result).startsWith("_").isEqualTo("_" + device.strip());
    }

    @ParameterizedTest
    @ValueSource(strings = {"CONSOLE.txt", "icon.png", "COM10", "LPT", "prn-report.pdf", "nullable.txt"})
    void leavesNamesThatMerelyResembleDeviceNames(String name) {
        assertThat(names.allocate(name, null)).isEqualTo(name);
    }

    @Test
    void boundsTheByteLengthKeepingTheExtension() {
        String result = names.allocate("a".repeat(300) + ".pdf", null);
        assertThat(utf8(result)).isEqualTo(120);
        assertThat(result).isEqualTo("a".repeat(116) + ".pdf");
    }

    @Test
    void boundsMultiByteNamesWithoutSplittingCodePoints() {
        String twoByte = names.allocate("\u00e4".repeat(100) + ".pdf", null);
        assertThat(twoByte).isEqualTo("\u00e4".repeat(58) + ".pdf");

        String threeByte = names.allocate("\u65e5".repeat(100) + ".txt", null);
        assertThat(threeByte).isEqualTo("\u65e5".repeat(38) + ".txt");
        assertThat(utf8(threeByte)).isEqualTo(118);

        String emoji = names.allocate("x" + "\uD83D\uDE00".repeat(60) + ".png", null);
        assertThat(utf8(emoji)).isLessThanOrEqualTo(120);
        assertThat(emoji).endsWith(".png").startsWith("x");
        assertThat(new String(emoji.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(emoji);
        assertThat(emoji.codePoints().filter(cp -> Character.getType(cp) == Character.SURROGATE)).isEmpty();
    }

    @Test
    void treatsOnlyShortSuffixesWithoutSpacesAsExtensions() {
        String longExtension = names.allocate("a".repeat(200) + ".thisextensionistoolong", null);
        assertThat(utf8(longExtension)).isEqualTo(120);
        assertThat(longExtension).isEqualTo("a".repeat(120));

        String spaced = names.allocate("b".repeat(200) + ".not an extension", null);
        assertThat(spaced).isEqualTo("b".repeat(120));
    }

    @Test
    void honoursACustomBound() {
        AttachmentNames small = new AttachmentNames(20);
        assertThat(small.allocate("abcdefghijklmnopqrstuvwxyz.pdf", null)).isEqualTo("abcdefghijklmnop.pdf");
        assertThat(small.allocate("abcdefghijklmnopqrstuvwxyz.pdf", null)).isEqualTo("abcdefghijkl (2).pdf");
    }

    @Test
    void shorteningStripsTrailingSpacesAndDotsOfTheStem() {
        AttachmentNames small = new AttachmentNames(20);
        assertThat(small.allocate("abcdefghijklmno . . . .pdf", null)).isEqualTo("abcdefghijklmno.pdf");
    }

    @Test
    void rejectsATooSmallBound() {
        assertThatThrownBy(() -> new AttachmentNames(8)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void numbersCollisionsCaseInsensitively() {
        assertThat(names.allocate("report.pdf", null)).isEqualTo("report.pdf");
        assertThat(names.allocate("report.pdf", null)).isEqualTo("report (2).pdf");
        assertThat(names.allocate("REPORT.PDF", null)).isEqualTo("REPORT (3).PDF");
        assertThat(names.allocate("README", null)).isEqualTo("README");
        assertThat(names.allocate("readme", null)).isEqualTo("readme (2)");
        assertThat(names.allocate(null, "application/pdf")).isEqualTo("attachment.pdf");
        assertThat(names.allocate("", "application/pdf")).isEqualTo("attachment (2).pdf");
    }

    @Test
    void skipsNumbersAlreadyTaken() {
        assertThat(names.allocate("x (2).pdf", null)).isEqualTo("x (2).pdf");
        assertThat(names.allocate("x.pdf", null)).isEqualTo("x.pdf");
        assertThat(names.allocate("x.pdf", null)).isEqualTo("x (3).pdf");
    }

    @Test
    void collisionSuffixStaysWithinTheBound() {
        String name = "\u00fc".repeat(200) + ".docx";
        String first = names.allocate(name, null);
        String second = names.allocate(name, null);
        assertThat(utf8(first)).isLessThanOrEqualTo(120);
        assertThat(utf8(second)).isLessThanOrEqualTo(120);
        assertThat(second).endsWith(" (2).docx").isNotEqualToIgnoringCase(first);
        for (int i = 3; i <= 12; i++) {
            String next = names.allocate(name, null);
            assertThat(next).endsWith(" (" + i + ").docx");
            assertThat(utf8(next)).isLessThanOrEqualTo(120);
        }
    }

    @Test
    void eachInstanceServesOneMessage() {
        assertThat(names.allocate("a.pdf", null)).isEqualTo("a.pdf");
        assertThat(new AttachmentNames().allocate("a.pdf", null)).isEqualTo("a.pdf");
    }

    @Test
    void hostileNamesAlwaysYieldSafeNames(@TempDir Path dir) {
        List<String> hostile = List.of("../../etc/passwd", "..\\..\\boot.ini", "C:\\Windows\\system32\\evil.dll", "CON",
                "a".repeat(300), "x\u0000y", "line\r\nbreak.txt", "\u202Etxt.exe", "..", ".", "", " ", "/", "\\",
                "name/..", "....//....//", "<>:\"|?*", "\uD800broken.pdf", "\u0085\u2028\u2029.txt", "lpt1.tar.gz");
        for (String original : hostile) {
            String safe = names.allocate(original, "application/octet-stream");
            assertThat(safe).as("from %s", original)
                    .isNotEmpty().isNotEqualTo(".").isNotEqualTo("..")
                    .doesNotContain("/", "\\", "<", ">", ":", "\"", "|", "?", "*")
                    .doesNotStartWith(" ").doesNotStartWith(".").doesNotEndWith(" ").doesNotEndWith(".");
            assertThat(safe.codePoints().filter(cp -> cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
                    || cp == 0x202E || Character.getType(cp) == Character.SURROGATE)).isEmpty();
            assertThat(utf8(safe)).isLessThanOrEqualTo(120);
            assertThat(AttachmentNames.isDeviceName(safe)).isFalse();
            assertThat(AttachmentNames.resolveInside(dir, safe).getParent()).isEqualTo(dir.toAbsolutePath());
        }
    }

    @Test
    void resolveInsideAcceptsAChild(@TempDir Path dir) {
        assertThat(AttachmentNames.resolveInside(dir, "report.pdf"))
                .isEqualTo(dir.toAbsolutePath().normalize().resolve("report.pdf"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../escape.txt", "a/../../escape.txt", "/etc/passwd", ".", "", "..", "a/..", "nul\u0000"})
    void resolveInsideRejectsAnythingNotStrictlyInside(String name, @TempDir Path dir) {
        assertThatThrownBy(() -> AttachmentNames.resolveInside(dir, name))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
