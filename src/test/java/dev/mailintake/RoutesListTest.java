package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Mail Intake names every built-in route file (a wildcard would make Camel walk the whole fat jar at start-up), so a
 * new route file must be added to {@link UserRoutes#BUILT_IN_FILES} too.
 */
class RoutesListTest {

    @Test
    void everyBuiltInRouteFileIsNamed() throws IOException {
        List<String> files;
        try (Stream<Path> s = Files.list(Path.of("src/main/resources/routes"))) {
            files = s.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".yaml")).sorted().toList();
        }
        assertThat(UserRoutes.BUILT_IN_FILES.stream().sorted().toList()).isEqualTo(files);
    }
}
