package org.elasticsearch.plugins;

import org.elasticsearch.Build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A {@link PluginsLoader} that serves plugins/modules whose classes are already on the application
 * classpath (e.g. transport-netty4 resolved from Maven Central), instead of loading them from a
 * {@code modules/} directory with their own class loaders.
 *
 * <p>It lives in {@code org.elasticsearch.plugins} only because the {@link PluginsLoader} and
 * {@link PluginBundle} constructors are package-private (the application runs on the classpath, so
 * the split package is allowed). The plugins are reported as modules in {@code _nodes/plugins}.
 */
public final class ClasspathPluginsLoader extends PluginsLoader {

    private final List<PluginLayer> layers;

    private ClasspathPluginsLoader(Set<PluginBundle> modules, List<PluginLayer> layers) {
        super(modules, Collections.emptySet(), Collections.emptyMap());
        this.layers = layers;
    }

    /**
     * @param emptyDir    an existing directory without jars (used as the nominal bundle directory)
     * @param pluginNames plugin names, parallel to {@code pluginClasses}
     * @param pluginClasses plugin main classes visible on the classpath
     */
    public static ClasspathPluginsLoader create(Path emptyDir, List<String> pluginNames, List<Class<? extends Plugin>> pluginClasses)
        throws IOException {
        Files.createDirectories(emptyDir);
        Set<PluginBundle> bundles = new LinkedHashSet<>();
        List<PluginLayer> layers = new ArrayList<>();
        for (int i = 0; i < pluginClasses.size(); i++) {
            Class<? extends Plugin> clazz = pluginClasses.get(i);
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginNames.get(i),
                "classpath module " + clazz.getName(),
                Build.current().version(),
                Build.current().version(),
                Integer.toString(Runtime.version().feature()),
                clazz.getName(),
                null,
                List.of(),
                false,
                false,
                false,
                false
            );
            PluginBundle bundle = new PluginBundle(descriptor, emptyDir);
            ClassLoader loader = clazz.getClassLoader();
            bundles.add(bundle);
            layers.add(new PluginLayer() {
                @Override
                public PluginBundle pluginBundle() {
                    return bundle;
                }

                @Override
                public ClassLoader pluginClassLoader() {
                    return loader;
                }

                @Override
                public ModuleLayer pluginModuleLayer() {
                    return ModuleLayer.boot();
                }
            });
        }
        return new ClasspathPluginsLoader(bundles, List.copyOf(layers));
    }

    @Override
    public Stream<PluginLayer> pluginLayers() {
        return layers.stream();
    }
}
