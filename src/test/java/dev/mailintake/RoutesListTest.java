package dev.mailintake;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shipped application.properties names every route file (a wildcard would make Camel walk the whole fat jar at
 * start-up), so a new route file must be added there too.
 */
class RoutesListTest {

    @Test
    void theShippedPropertiesNameEveryRouteFile() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of("application.properties"))) {
            p.load(r);
        }
        List<String> listed = Arrays.stream(p.getProperty("camel.main.routesIncludePattern").split(","))
                .map(String::trim).sorted().toList();
        List<String> files;
        try (Stream<Path> s = Files.list(Path.of("src/main/resources/routes"))) {
            files = s.map(f -> "classpath:routes/" + f.getFileName()).filter(f -> f.endsWith(".yaml")).sorted().toList();
        }
        assertThat(listed).isEqualTo(files);
    }
}
